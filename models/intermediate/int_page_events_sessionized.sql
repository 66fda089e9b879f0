{#- One row per categorised event with its session: events carrying the source's session_id are
    grouped by it; the others start a new session after more than var('session_gap_minutes') of
    inactivity (or at the user's first event). Sessions are numbered per user by start time;
    `step` is the event's place in its session (1 = landing), with the next step's category and
    the seconds until it (NULL at the exit). -#}

{%- set gap_seconds = var('session_gap_minutes') | float * 60 -%}

with

page_events as (
    select * from {{ ref('int_page_events_categorized') }}
),

events_with_previous as (
    select
        *,
        lag(occurred_at) over (
            partition by user_key, source_session_id is null
            order by event_number
        ) as previous_occurred_at
    from page_events
),

gap_session_starts as (
    select
        *,
        case
            when source_session_id is not null then 0
            when previous_occurred_at is null then 1
            when {{ seconds_between('previous_occurred_at', 'occurred_at') }} > {{ gap_seconds }}
                then 1
            else 0
        end as is_gap_session_start
    from events_with_previous
),

events_with_session_group as (
    select
        *,
        case
            when source_session_id is not null then 'source:' || source_session_id
            else 'gap:' || cast(sum(is_gap_session_start) over (
                partition by user_key
                order by event_number
                rows between unbounded preceding and current row
            ) as {{ dbt.type_string() }})
        end as session_group
    from gap_session_starts
),

events_with_session_start as (
    select
        *,
        min(occurred_at) over (partition by user_key, session_group) as session_started_at,
        row_number() over (
            partition by user_key, session_group
            order by event_number
        ) as step,
        lead(category) over (
            partition by user_key, session_group
            order by event_number
        ) as next_category,
        lead(occurred_at) over (
            partition by user_key, session_group
            order by event_number
        ) as next_occurred_at
    from events_with_session_group
),

events_with_session_number as (
    select
        *,
        dense_rank() over (
            partition by user_key
            order by session_started_at, session_group
        ) as session_number
    from events_with_session_start
),

final as (
    select
        record_number,
        user_key || '/' || cast(session_number as {{ dbt.type_string() }}) as session_id,
        user_key,
        contact_id,
        cast(session_number as {{ api.Column.translate_type('integer') }}) as session_number,
        source_session_id,
        cast(step as {{ api.Column.translate_type('integer') }}) as step,
        event_number,
        occurred_at,
        event_name,
        normalized_url,
        category,
        category_code,
        is_conversion,
        is_target_event,
        next_category,
        {{ seconds_between('occurred_at', 'next_occurred_at') }} as seconds_to_next
    from events_with_session_number
)

select * from final
