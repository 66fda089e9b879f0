{#- One row per categorised on-site event (var journeys_off_site_categories: e-mail opens and clicks are
    not web activity) with its session: events carrying the source's session_id are
    grouped by it; the others start a new session after more than var('journeys_session_gap_minutes') of
    inactivity (or at the user's first event). Sessions are numbered per user by start time;
    `step` is the event's place in its session (1 = landing), with the next step's category and
    the seconds until it (NULL at the exit). A user's events are ordered by time, then record.

    Incremental: only the users with events new since the last build are sessionised again, each from
    the first of its sessions the new events can change: the inactivity-gap session its earliest new
    event may continue (whatever the lateness of that event), every later session (their numbers can
    shift), and any session whose source session id a new event carries. Its earlier sessions keep their
    rows and numbers. The rows of the users rebuilt carry this build's `processed_at`, which the sessions
    and the sequences read to find what changed. -#}
{{ config(**page_events_increment(replaced='user_bucket', replaced_rows='user_key')) }}

{%- set gap_seconds = var('journeys_session_gap_minutes') | float * 60 -%}
{%- set incremental = page_events_incremental() -%}
{%- set replaced = page_events_replaced_key('user_bucket', 'user_key') -%}
{%- set event_columns = [
    'record_number', 'user_key', 'contact_id', 'source_session_id', 'occurred_at', 'event_name',
    'normalized_url', 'category', 'category_code', 'is_conversion', 'is_target_event',
] -%}
{%- set sessionized_columns = [
    'record_number', 'session_id', 'user_key', 'contact_id', 'session_number', 'source_session_id', 'step',
    'occurred_at', 'event_name', 'normalized_url', 'category', 'category_code', 'is_conversion',
    'is_target_event', 'next_category', 'seconds_to_next', 'processed_at', 'user_bucket',
] -%}

with

page_events as (
    select * from {{ ref('int_page_events_categorized') }}
    where is_on_site
    {%- if incremental %}
        and record_number > (select coalesce(max(record_number), 0) from {{ this }})
    {%- endif %}
),

{%- if incremental %}

held_events as (
    select * from {{ this }}
),

users_with_new_events as (
    select
        user_key,
        min(occurred_at) as first_new_at
    from page_events
    group by user_key
),

new_source_sessions as (
    select distinct
        user_key,
        source_session_id
    from page_events
    where source_session_id is not null
),

held_sessions as (
    select
        held_events.user_key,
        held_events.session_id,
        min(held_events.session_number) as session_number,
        min(held_events.source_session_id) as source_session_id,
        min(held_events.occurred_at) as started_at,
        max(held_events.occurred_at) as ended_at
    from held_events
    inner join users_with_new_events
        on held_events.user_key = users_with_new_events.user_key
    group by held_events.user_key, held_events.session_id
),

{#- the start of the latest inactivity-gap session begun by the user's earliest new event: the one that
    event may continue -#}
continued_sessions as (
    select
        users_with_new_events.user_key,
        users_with_new_events.first_new_at,
        coalesce(max(held_sessions.started_at), users_with_new_events.first_new_at) as continued_from
    from users_with_new_events
    left join held_sessions
        on users_with_new_events.user_key = held_sessions.user_key
        and held_sessions.source_session_id is null
        and held_sessions.started_at <= users_with_new_events.first_new_at
    group by users_with_new_events.user_key, users_with_new_events.first_new_at
),

{#- sessionised again from the earliest start of a held session that new events can change: one still
    going at the continued session's start, or one a new event's source session id names -#}
resessionized_users as (
    select
        continued_sessions.user_key,
        coalesce(
            min(
                case
                    when held_sessions.ended_at >= continued_sessions.continued_from
                        or new_source_sessions.source_session_id is not null
                        then held_sessions.started_at
                end
            ),
            continued_sessions.first_new_at
        ) as earliest_changed_start,
        continued_sessions.first_new_at
    from continued_sessions
    left join held_sessions
        on continued_sessions.user_key = held_sessions.user_key
    left join new_source_sessions
        on held_sessions.user_key = new_source_sessions.user_key
        and held_sessions.source_session_id = new_source_sessions.source_session_id
    group by continued_sessions.user_key, continued_sessions.first_new_at
),

resessionized_from as (
    select
        user_key,
        case
            when earliest_changed_start < first_new_at then earliest_changed_start else first_new_at
        end as resessionized_from
    from resessionized_users
),

replaced_sessions as (
    select held_sessions.session_id
    from held_sessions
    inner join resessionized_from
        on held_sessions.user_key = resessionized_from.user_key
    where held_sessions.started_at >= resessionized_from.resessionized_from
),

{#- the user's sessions before the first one sessionised again keep their numbers -#}
session_number_offsets as (
    select
        resessionized_from.user_key,
        count(held_sessions.session_id) as kept_sessions
    from resessionized_from
    left join held_sessions
        on resessionized_from.user_key = held_sessions.user_key
        and held_sessions.started_at < resessionized_from.resessionized_from
    group by resessionized_from.user_key
),

events_to_sessionize as (
    select
        {%- for column in event_columns %}
        held_events.{{ column }},
        {%- endfor %}
        session_number_offsets.kept_sessions
    from held_events
    inner join replaced_sessions
        on held_events.session_id = replaced_sessions.session_id
    inner join session_number_offsets
        on held_events.user_key = session_number_offsets.user_key

    union all

    select
        {%- for column in event_columns %}
        page_events.{{ column }},
        {%- endfor %}
        session_number_offsets.kept_sessions
    from page_events
    inner join session_number_offsets
        on page_events.user_key = session_number_offsets.user_key
),

{%- else %}

events_to_sessionize as (
    select
        {%- for column in event_columns %}
        {{ column }},
        {%- endfor %}
        0 as kept_sessions
    from page_events
),

{%- endif %}

{#- one ordered window per stream (events with, and events without, a source session id) -#}
events_with_previous as (
    select
        *,
        lag(occurred_at) over (
            partition by user_key, source_session_id is null
            order by occurred_at, record_number
        ) as previous_occurred_at
    from events_to_sessionize
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
                order by occurred_at, record_number
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
    window session_events as (
        partition by user_key, session_group
        order by occurred_at, record_number
    )
),

{#- sessions numbered on the (far fewer) sessions, not on every event -#}
session_numbers as (
    select
        user_key,
        session_group,
        kept_sessions + row_number() over (
            partition by user_key
            order by session_started_at, session_group
        ) as session_number
    from events_in_session_order
    where step = 1
),

sessionized_events as (
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
        ) }} as seconds_to_next,
        {{ page_events_build_time() }} as processed_at,
        {{ page_events_user_bucket('events_in_session_order.user_key') }} as user_bucket
    from events_in_session_order
    inner join session_numbers
        on events_in_session_order.user_key = session_numbers.user_key
        and events_in_session_order.session_group = session_numbers.session_group
),

{%- if incremental %}

{#- every row of the users (DuckDB) or user buckets (Spark) replaced: the sessions sessionised again and
    the held ones that stay -#}
replaced_partitions as (
    select distinct {{ replaced }} from sessionized_events
),

kept_events as (
    select
        {%- for column in sessionized_columns %}
        {%- if column == 'processed_at' %}
        {{ page_events_build_time() }} as processed_at{{ ',' if not loop.last }}
        {%- else %}
        held_events.{{ column }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from held_events
    inner join replaced_partitions
        on held_events.{{ replaced }} = replaced_partitions.{{ replaced }}
    left join replaced_sessions
        on held_events.session_id = replaced_sessions.session_id
    where replaced_sessions.session_id is null
),

final as (
    select * from sessionized_events
    union all
    select * from kept_events
)

{%- else %}

final as (
    select * from sessionized_events
)

{%- endif %}

select * from final
