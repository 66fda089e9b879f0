{#- One row per session of the page_events source (int_page_events_sessionized): who, when, how
    long, how many events and pages, where it landed and where it left, whether it holds a
    conversion (a category the seed marks is_conversion) or the propensity target event, and its path
    (the categories of its first var('journeys_top_paths_length') events, joined with ` > `). Empty
    when the source is absent. Incremental: the sessions of the users (on Spark: user buckets) that the
    sessionised events rebuilt since this table's last build are built again. -#}
{{ config(**page_events_increment(
    replaced='user_bucket', replaced_rows='user_key', watermark_of='int_page_events_sessionized.processed_at'
)) }}

{%- set path_length = var('journeys_top_paths_length') | int -%}
{%- set replaced = page_events_replaced_key('user_bucket', 'user_key') %}

with

session_events as (
    select * from {{ ref('int_page_events_sessionized') }}
    {%- if page_events_incremental() %}
    where {{ replaced }} in (
        select {{ replaced }} from {{ ref('int_page_events_sessionized') }}
        where processed_at > {{ page_events_watermark(api.Column.translate_type('timestamp'), "'0001-01-01'") }}
    )
    {%- endif %}
),

session_paths as (
    select
        session_id,
        {{ list_join(list_agg_ordered('category', 'step'), "' > '") }} as path
    from session_events
    where step <= {{ path_length }}
    group by session_id
),

session_summaries as (
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
        {{ dbt.bool_or('is_target_event') }} as has_target_event,
        min(user_bucket) as user_bucket
    from session_events
    group by session_id
),

final as (
    select
        session_summaries.session_id,
        session_summaries.user_key,
        session_summaries.contact_id,
        session_summaries.session_number,
        session_summaries.source_session_id,
        session_summaries.started_at,
        session_summaries.ended_at,
        session_summaries.duration_seconds,
        session_summaries.event_count,
        session_summaries.page_view_count,
        session_summaries.landing_category,
        session_summaries.exit_category,
        session_summaries.has_conversion,
        session_summaries.has_target_event,
        session_paths.path,
        session_summaries.user_bucket
    from session_summaries
    inner join session_paths
        on session_summaries.session_id = session_paths.session_id
)

select * from final
