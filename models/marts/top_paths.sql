{#- The most frequent session paths: the categories of a session's first var('journeys_top_paths_length')
    events joined with ` > ` (a shorter session is its whole path), with the sessions that follow
    it, those that end with it, and the share of them that convert (a conversion category
    anywhere in the session). The var('journeys_top_paths_count') most frequent paths are kept, ranked.
    Counted over the sessions' paths (sessions.path). Empty when the page_events source is absent. -#}

{%- set length = var('journeys_top_paths_length') | int %}

with

sessions as (
    select * from {{ ref('sessions') }}
),

path_counts as (
    select
        path,
        min(least(event_count, {{ length }})) as path_length,
        count(*) as sessions,
        count(case when event_count <= {{ length }} then 1 end) as sessions_ended,
        count(case when has_conversion then 1 end) as converting_sessions
    from sessions
    group by path
),

ranked_paths as (
    select
        *,
        row_number() over (order by sessions desc, path) as path_rank,
        sum(sessions) over () as all_sessions
    from path_counts
),

final as (
    select
        cast(path_rank as {{ api.Column.translate_type('integer') }}) as path_rank,
        path,
        cast(path_length as {{ api.Column.translate_type('integer') }}) as path_length,
        sessions,
        cast(sessions as {{ api.Column.translate_type('double') }}) / all_sessions as share_of_sessions,
        sessions_ended,
        converting_sessions,
        cast(converting_sessions as {{ api.Column.translate_type('double') }}) / sessions as conversion_rate
    from ranked_paths
    where path_rank <= {{ var('journeys_top_paths_count') | int }}
)

select * from final
