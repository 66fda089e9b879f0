{#- Where sessions stop: for each step 1..var('journeys_path_steps'), the sessions that reach it, those
    that end there (their exit step) and the drop-off rate (ending / reaching), with the category
    most sessions exit from at that step. Empty when the page_events source is absent. -#}

{%- set steps = var('journeys_path_steps') | int %}

with

sessions as (
    select * from {{ ref('sessions') }}
),

step_numbers as (
    {{ step_numbers(steps) }}
),

sessions_per_step as (
    select
        step_numbers.step,
        count(*) as sessions_reaching,
        count(case when sessions.event_count = step_numbers.step then 1 end) as sessions_ending
    from step_numbers
    inner join sessions
        on sessions.event_count >= step_numbers.step
    group by step_numbers.step
),

exits_per_category as (
    select
        event_count as step,
        exit_category,
        row_number() over (
            partition by event_count
            order by count(*) desc, exit_category
        ) as exit_rank
    from sessions
    where event_count <= {{ steps }}
    group by event_count, exit_category
),

final as (
    select
        cast(sessions_per_step.step as {{ api.Column.translate_type('integer') }}) as step,
        sessions_per_step.sessions_reaching,
        sessions_per_step.sessions_ending,
        sessions_per_step.sessions_reaching - sessions_per_step.sessions_ending
            as sessions_continuing,
        cast(sessions_per_step.sessions_ending as {{ api.Column.translate_type('double') }})
            / sessions_per_step.sessions_reaching as dropoff_rate,
        exits_per_category.exit_category as top_exit_category
    from sessions_per_step
    left join exits_per_category
        on sessions_per_step.step = exits_per_category.step
        and exits_per_category.exit_rank = 1
)

select * from final
