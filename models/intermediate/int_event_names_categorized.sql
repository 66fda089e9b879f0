{#- One row per distinct event name of the page_events source: the category of the first `event`
    rule of seeds/url_categories.csv (lowest priority number, then rule_id) whose pattern is the
    name; NULL when no rule names it (the event then takes its URL's category). -#}

with

page_events as (
    select * from {{ ref('stg_hubspot__page_events') }}
),

url_categories as (
    select * from {{ ref('url_categories') }}
    where match_type = 'event'
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

event_names as (
    select distinct event_name
    from page_events
    where event_name is not null
),

rule_matches as (
    select
        event_names.event_name,
        url_categories.rule_id,
        url_categories.category,
        row_number() over (
            partition by event_names.event_name
            order by url_categories.priority, url_categories.rule_id
        ) as match_rank
    from event_names
    inner join url_categories
        on event_names.event_name = url_categories.pattern
),

final as (
    select
        event_names.event_name,
        rule_matches.rule_id,
        rule_matches.category,
        url_category_codes.category_code
    from event_names
    left join rule_matches
        on event_names.event_name = rule_matches.event_name
        and rule_matches.match_rank = 1
    left join url_category_codes
        on rule_matches.category = url_category_codes.category
)

select * from final
