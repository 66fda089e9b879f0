{#- One row per contact with a journey: the readable journey from the source the models' sequences
    come from (macro journey_pages: the page_events source's on-site events when it holds any, else
    the staged Last Page Seen history), its most recent var('journeys_max_sequence_length') pages oldest first, the
    position of the contact's conversion in it, the part the models read (before the conversion and
    var('journeys_propensity_cutoff')), dates, and the purchase labels. The journey is collated with the
    sequences (int_contact_sequences_collated); the labels come from the export. -#}

{%- set max_length = var('journeys_max_sequence_length') %}

with

sequences as (
    select * from {{ ref('int_contact_sequences_collated') }}
),

features as (
    select * from {{ ref('int_contact_features_assembled') }}
),

final as (
    select
        sequences.contact_id,
        sequences.sequence_source,
        cast(
            least(sequences.journey_page_count, {{ max_length }}) as {{ api.Column.translate_type('integer') }}
        ) as page_count,
        sequences.journey_page_count as total_page_count,
        {{ list_join('sequences.journey_categories', "' > '") }} as journey,
        {{ list_element('sequences.journey_categories', '1') }} as first_category,
        {{ list_element('sequences.journey_categories', 'least(sequences.journey_page_count, ' ~ max_length ~ ')') }}
            as last_category,
        sequences.journey_conversion_position as conversion_position,
        sequences.page_count as input_page_count,
        {{ list_join('sequences.categories', "' > '") }} as input_journey,
        sequences.journey_first_page_at as first_page_at,
        sequences.journey_last_page_at as last_page_at,
        sequences.journey_visited_conversion_page as visited_conversion_page,
        features.is_buyer,
        {%- for course_name, suffix in hubspot_courses() %}
        features.course_{{ suffix }}{{ ',' if not loop.last }}
        {%- endfor %}
    from sequences
    inner join features
        on sequences.contact_id = features.contact_id
)

select * from final
