{#- One row per session of the page_events source (int_page_events_sessionized): who, when, how
    long, how many events and pages, where it landed and where it left, and whether it holds a
    conversion (a category the seed marks is_conversion) or the propensity target event. Empty
    when the source is absent. -#}

with

session_events as (
    select * from {{ ref('int_page_events_sessionized') }}
),

final as (
    select
        session_id,
        min(user_key) as user_key,
        min(contact_id) as contact_id,
        min(session_number) as session_number,
        min(source_session_id) as source_session_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        {{ seconds_between('min(occurred_at)', 'max(occurred_at)') }} as duration_seconds,
        cast(count(*) as {{ api.Column.translate_type('integer') }}) as event_count,
        cast(
            count(normalized_url) as {{ api.Column.translate_type('integer') }}
        ) as page_view_count,
        max(case when step = 1 then category end) as landing_category,
        max(case when next_category is null then category end) as exit_category,
        {{ dbt.bool_or('is_conversion') }} as has_conversion,
        {{ dbt.bool_or('is_target_event') }} as has_target_event
    from session_events
    group by session_id
)

select * from final
