{#- One row per categorised on-site event (var journeys_off_site_categories: e-mail opens and clicks are
    not web activity) with its session: events carrying the source's session_id are
    grouped by it; the others start a new session after more than var('journeys_session_gap_minutes') of
    inactivity (or at the user's first event). Sessions are numbered per user by start time;
    `step` is the event's place in its session (1 = landing), with the next step's category and
    the seconds until it (NULL at the exit). -#}

{%- set gap_seconds = var('journeys_session_gap_minutes') | float * 60 -%}

with

page_events as (
    select * from {{ ref('int_page_events_categorized') }}
    where is_on_site
),

{#- one ordered window per stream (events with, and events without, a source session id) -#}
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
                partition by user_key, source_session_id is null
                order by event_number
                rows between unbounded preceding and current row
            ) as {{ dbt.type_string() }})
        end as session_group
    from gap_session_starts
),

events_in_session_order as (
    select
        *,
        row_number() over session_events as step,
        first_value(occurred_at) over session_events as session_started_at,
        lead(category) over session_events as next_category,
        lead(occurred_at) over session_events as next_occurred_at
    from events_with_session_group
    window session_events as (partition by user_key, session_group order by event_number)
),

{#- sessions numbered on the (far fewer) sessions, not on every event -#}
session_numbers as (
    select
        user_key,
        session_group,
        row_number() over (
            partition by user_key
            order by session_started_at, session_group
        ) as session_number
    from events_in_session_order
    where step = 1
),

final as (
    select
        events_in_session_order.record_number,
        events_in_session_order.user_key || '/'
            || cast(session_numbers.session_number as {{ dbt.type_string() }}) as session_id,
        events_in_session_order.user_key,
        events_in_session_order.contact_id,
        cast(
            session_numbers.session_number as {{ api.Column.translate_type('integer') }}
        ) as session_number,
        events_in_session_order.source_session_id,
        cast(events_in_session_order.step as {{ api.Column.translate_type('integer') }}) as step,
        events_in_session_order.event_number,
        events_in_session_order.occurred_at,
        events_in_session_order.event_name,
        events_in_session_order.normalized_url,
        events_in_session_order.category,
        events_in_session_order.category_code,
        events_in_session_order.is_conversion,
        events_in_session_order.is_target_event,
        events_in_session_order.next_category,
        {{ seconds_between(
            'events_in_session_order.occurred_at', 'events_in_session_order.next_occurred_at'
        ) }} as seconds_to_next
    from events_in_session_order
    inner join session_numbers
        on events_in_session_order.user_key = session_numbers.user_key
        and events_in_session_order.session_group = session_numbers.session_group
)

select * from final
