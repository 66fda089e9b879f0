{#- One row per (from, to) pair of categories of consecutive events within a session: how often
    it happens, its share of the transitions leaving `from_category` (the transition
    probability) and the median seconds between the two events. Empty when the page_events source
    is absent. -#}

with

session_events as (
    select * from {{ ref('int_page_events_sessionized') }}
),

transitions as (
    select
        category as from_category,
        next_category as to_category,
        seconds_to_next
    from session_events
    where next_category is not null
),

transition_counts as (
    select
        from_category,
        to_category,
        count(*) as transitions,
        {{ median_of('seconds_to_next') }} as median_seconds_between
    from transitions
    group by from_category, to_category
),

final as (
    select
        from_category,
        to_category,
        transitions,
        cast(transitions as {{ api.Column.translate_type('double') }})
            / sum(transitions) over (partition by from_category) as probability,
        cast(median_seconds_between as {{ api.Column.translate_type('double') }}) as median_seconds_between
    from transition_counts
)

select * from final
