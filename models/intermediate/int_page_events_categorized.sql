{#- One row per staged event of the page_events source: its category (an `event` rule naming the
    event, else its URL's category, else `other`), whether the seed counts the category as a
    conversion, whether it happened on the site (its category is not in var journeys_off_site_categories)
    and whether it is the propensity conversion (var journeys_propensity_target_event: an event name or a
    category). Raw URLs stay in staging. A user's events are ordered by time, then record. Incremental: a
    build categorises the staged events after the ones it holds. -#}
{{ config(**page_events_increment()) }}

{%- set target_event = (var('journeys_propensity_target_event') or '') | string | lower | trim -%}
{%- if "'" in target_event or '\\' in target_event -%}
    {{ exceptions.raise_compiler_error(
        "dbt var journeys_propensity_target_event is '" ~ target_event ~ "': an event name or category holds no quote or backslash"
    ) }}
{%- endif -%}

with

page_events as (
    select * from {{ ref('stg_hubspot__page_events') }}
    {%- if page_events_incremental() %}
    where record_number > (select coalesce(max(record_number), 0) from {{ this }})
    {%- endif %}
),

urls_categorized as (
    select * from {{ ref('int_urls_categorized') }}
),

event_names_categorized as (
    select * from {{ ref('int_event_names_categorized') }}
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

events_with_category as (
    select
        page_events.record_number,
        page_events.user_key,
        page_events.contact_id,
        page_events.occurred_at,
        page_events.source_session_id,
        page_events.event_name,
        page_events.normalized_url,
        coalesce(
            event_names_categorized.category, urls_categorized.category, 'other'
        ) as category
    from page_events
    left join urls_categorized
        on page_events.normalized_url = urls_categorized.normalized_url
    left join event_names_categorized
        on page_events.event_name = event_names_categorized.event_name
),

final as (
    select
        events_with_category.record_number,
        events_with_category.user_key,
        events_with_category.contact_id,
        events_with_category.occurred_at,
        events_with_category.source_session_id,
        events_with_category.event_name,
        events_with_category.normalized_url,
        events_with_category.category,
        url_category_codes.category_code,
        url_category_codes.is_conversion,
        {{ is_on_site_category('events_with_category.category') }} as is_on_site,
        {%- if target_event %}
        coalesce(
            events_with_category.event_name = '{{ target_event }}'
            or events_with_category.category = '{{ target_event }}',
            false
        ) as is_target_event
        {%- else %}
        false as is_target_event
        {%- endif %}
    from events_with_category
    inner join url_category_codes
        on events_with_category.category = url_category_codes.category
)

select * from final
