{#- The Retentioneering step matrix on sessions: for each step 1..var('journeys_path_steps') of a session,
    the share of all sessions whose event at that step is in each category, plus `(ended)` for the
    sessions already over; each step's shares add up to 1. Empty when the page_events source is
    absent. -#}

{%- set steps = var('journeys_path_steps') | int %}

with

session_events as (
    select * from {{ ref('int_page_events_sessionized') }}
),

sessions as (
    select * from {{ ref('sessions') }}
),

step_numbers as (
    {{ step_numbers(steps) }}
),

session_total as (
    select count(*) as all_sessions from sessions
),

sessions_at_category as (
    select
        step,
        category,
        count(*) as sessions
    from session_events
    where step <= {{ steps }}
    group by step, category
),

sessions_ended as (
    select
        step_numbers.step,
        '(ended)' as category,
        count(*) as sessions
    from step_numbers
    inner join sessions
        on sessions.event_count < step_numbers.step
    group by step_numbers.step
),

sessions_at_step as (
    select * from sessions_at_category
    union all
    select * from sessions_ended
),

final as (
    select
        cast(sessions_at_step.step as {{ api.Column.translate_type('integer') }}) as step,
        sessions_at_step.category,
        sessions_at_step.sessions,
        cast(sessions_at_step.sessions as {{ api.Column.translate_type('double') }})
            / session_total.all_sessions as share
    from sessions_at_step
    cross join session_total
)

select * from final
