{#- One row per contact with a journey: the readable journey from the source the models' sequences
    come from (macro journey_pages: the page_events source's on-site events when it holds any, else
    the staged Last Page Seen history), its most recent var('journeys_max_sequence_length') pages oldest first, the
    position of the contact's conversion in it, the part the models read (before the conversion and
    var('journeys_propensity_cutoff'), as int_contact_sequences_collated holds it), dates, and the purchase
    labels. -#}

with

history_page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

page_events as (
    select * from {{ ref('int_page_events_categorized') }}
    where contact_id is not null
),

sequences as (
    select * from {{ ref('int_contact_sequences_collated') }}
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

features as (
    select * from {{ ref('int_contact_features_assembled') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

event_source as (
    select count(*) > 0 as has_events from page_events
),

contact_conversions as (
    {{ first_conversions('page_events') }}
),

journey_pages as (
    {{ journey_pages('history_page_views', 'page_events', 'event_source') }}
),

{#- a page is at or after the conversion: for events, from the first conversion event on; for the
    history, from the first page not seen before the First Conversion Date (the page or a newer one
    dated before it, as int_contact_sequences_collated cuts) -#}
pages_numbered as (
    select
        journey_pages.contact_id,
        journey_pages.sequence_source,
        journey_pages.category,
        journey_pages.changed_at,
        row_number() over (
            partition by journey_pages.contact_id
            order by journey_pages.page_order
        ) as position,
        count(*) over (partition by journey_pages.contact_id) as total_page_count,
        case
            when journey_pages.sequence_source = 'page_events'
                then contact_conversions.converted_at is not null
                    and journey_pages.changed_at >= contact_conversions.converted_at
            else contacts.first_conversion_at is not null
                and not coalesce(
                    min(journey_pages.changed_at) over (
                        partition by journey_pages.contact_id
                        order by journey_pages.page_order desc
                        rows between unbounded preceding and current row
                    ) < contacts.first_conversion_at,
                    false
                )
        end as is_from_conversion
    from journey_pages
    left join contact_conversions
        on journey_pages.contact_id = contact_conversions.contact_id
    left join contacts
        on journey_pages.contact_id = contacts.contact_id
),

{%- set max_length = var('journeys_max_sequence_length') %}

shown_pages as (
    select
        *,
        position - greatest(total_page_count - {{ max_length }}, 0) as journey_position
    from pages_numbered
    where position > total_page_count - {{ max_length }}
),

journey_summaries as (
    select
        shown_pages.contact_id,
        max(shown_pages.sequence_source) as sequence_source,
        cast(count(*) as {{ api.Column.translate_type('integer') }}) as page_count,
        cast(max(shown_pages.total_page_count) as {{ api.Column.translate_type('integer') }})
            as total_page_count,
        {{ list_agg_ordered('shown_pages.category', 'shown_pages.journey_position') }} as categories,
        cast(
            min(case when shown_pages.is_from_conversion then shown_pages.journey_position end)
            as {{ api.Column.translate_type('integer') }}
        ) as conversion_position,
        min(shown_pages.changed_at) as first_page_at,
        max(shown_pages.changed_at) as last_page_at,
        {{ dbt.bool_or('url_category_codes.is_conversion') }} as visited_conversion_page
    from shown_pages
    inner join url_category_codes
        on shown_pages.category = url_category_codes.category
    group by shown_pages.contact_id
),

final as (
    select
        journey_summaries.contact_id,
        journey_summaries.sequence_source,
        journey_summaries.page_count,
        journey_summaries.total_page_count,
        {{ list_join('journey_summaries.categories', "' > '") }} as journey,
        {{ list_element('journey_summaries.categories', '1') }} as first_category,
        {{ list_element('journey_summaries.categories', 'journey_summaries.page_count') }}
            as last_category,
        journey_summaries.conversion_position,
        coalesce(sequences.page_count, 0) as input_page_count,
        {{ list_join('sequences.categories', "' > '") }} as input_journey,
        journey_summaries.first_page_at,
        journey_summaries.last_page_at,
        journey_summaries.visited_conversion_page,
        features.is_buyer,
        {%- for course_name, suffix in hubspot_courses() %}
        features.course_{{ suffix }}{{ ',' if not loop.last }}
        {%- endfor %}
    from journey_summaries
    inner join features
        on journey_summaries.contact_id = features.contact_id
    left join sequences
        on journey_summaries.contact_id = sequences.contact_id
)

select * from final
