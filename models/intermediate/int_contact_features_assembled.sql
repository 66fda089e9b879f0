{#- One row per staged contact: the feature contract every Python model reads (see
    docs/architecture.md). Timestamps become days before var('journeys_reference_date'). -#}

{%- set day_features = [
    ('became_lead_at', 'days_since_lead'),
    ('became_subscriber_at', 'days_since_subscriber'),
    ('first_conversion_at', 'days_since_first_conversion'),
    ('first_email_send_at', 'days_since_first_email_send'),
    ('first_email_open_at', 'days_since_first_email_open'),
    ('first_email_click_at', 'days_since_first_email_click'),
    ('last_email_send_at', 'days_since_last_email_send'),
    ('last_email_open_at', 'days_since_last_email_open'),
    ('last_email_click_at', 'days_since_last_email_click'),
    ('last_event_at', 'days_since_last_event'),
] -%}
{%- set bulk_import_date -%}
    cast('{{ var("journeys_bulk_import_date") }}' as date)
{%- endset -%}
{%- set reference_timestamp -%}
    cast('{{ var("journeys_reference_date") }}' as {{ api.Column.translate_type('timestamp') }})
{%- endset -%}

with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

sequences as (
    select * from {{ ref('int_contact_sequences_collated') }}
),

final as (
    select
        contacts.contact_id,
        contacts.num_sessions,
        contacts.num_pageviews,
        contacts.emails_delivered,
        contacts.emails_opened,
        contacts.emails_clicked,
        contacts.avg_pageviews,
        contacts.ip_country,
        contacts.ip_country_code,
        contacts.last_email_name,
        contacts.last_event,
        contacts.job_title,
        contacts.education,
        contacts.opted_out_events,
        contacts.opted_out_announcements,
        contacts.opted_out_batch,
        contacts.unsubscribed_all,
        contacts.associated_company_id is not null as has_company,
        coalesce(
            cast(contacts.became_subscriber_at as date) = {{ bulk_import_date }},
            false
        ) as is_bulk_import,
        {%- for source_column, feature in day_features %}
        {%- set minutes_before = minutes_between('contacts.' ~ source_column, reference_timestamp) %}
        cast({{ minutes_before }} as double) / 1440 as {{ feature }},
        {%- endfor %}
        coalesce(sequences.page_count, 0) > 0 as has_page_history,
        coalesce(sequences.page_count, 0) as page_count,
        coalesce(sequences.category_codes, {{ empty_integer_list() }}) as category_codes,
        coalesce(
            sequences.category_codes_uncut, {{ empty_integer_list() }}
        ) as category_codes_uncut,
        coalesce(
            sequences.category_codes_before_conversion, {{ empty_integer_list() }}
        ) as category_codes_before_conversion,
        coalesce(
            sequences.recorded_category_codes, {{ empty_integer_list() }}
        ) as recorded_category_codes,
        sequences.first_page_at,
        sequences.last_page_at,
        contacts.courses_taken is not null as is_buyer,
        {#- a contact whose every page follows its conversion has a journey but no model history -#}
        case
            when sequences.sequence_source = 'page_events' and sequences.history_page_count > 0
                then sequences.converted_at is not null
        end as is_converted,
        {%- for course_name, suffix in hubspot_courses() %}
        {{ has_course('contacts.courses_taken', course_name) }} as course_{{ suffix }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from contacts
    left join sequences
        on contacts.contact_id = sequences.contact_id
)

select * from final
