{#- One row per usable contact (of the export, or of an ELT tool's contacts table; contacts the tool
    marks deleted are left out by the base model): typed, trimmed, lower-cased where case
    carries no meaning. A value that does not parse or breaks its rule (macros/checked_values.sql)
    becomes NULL and is named with its reason in invalid_fields; free text and URLs leave through
    the one redaction macro. -#}

{%- set timestamp_columns = [
    ('became_lead_date', 'became_lead_at'),
    ('became_subscriber_date', 'became_subscriber_at'),
    ('became_opportunity_date', 'became_opportunity_at'),
    ('first_conversion_date', 'first_conversion_at'),
    ('first_email_click_date', 'first_email_click_at'),
    ('first_email_open_date', 'first_email_open_at'),
    ('first_email_send_date', 'first_email_send_at'),
    ('last_activity_date', 'last_activity_at'),
    ('last_email_click_date', 'last_email_click_at'),
    ('last_email_open_date', 'last_email_open_at'),
    ('last_email_send_date', 'last_email_send_at'),
    ('last_event_date', 'last_event_at'),
] -%}
{%- set count_columns = [
    'num_pageviews', 'num_sessions', 'emails_opened', 'emails_delivered', 'emails_clicked',
    'event_completions',
] -%}
{%- set flag_columns = [
    'opted_out_events', 'opted_out_announcements', 'opted_out_batch', 'unsubscribed_all',
] -%}
{%- set number_columns = [] -%}
{%- for column in count_columns -%}{%- do number_columns.append((column, 'count')) -%}{%- endfor -%}
{%- do number_columns.append(('avg_pageviews', 'measure')) -%}
{%- do number_columns.append(('associated_company_id', 'id')) -%}
{%- set reason_columns = [] -%}
{%- for raw, typed in timestamp_columns -%}{%- do reason_columns.append(typed) -%}{%- endfor -%}
{%- for column, kind in number_columns -%}{%- do reason_columns.append(column) -%}{%- endfor -%}
{%- set reason_columns = reason_columns + flag_columns + ['ip_country', 'ip_country_code'] -%}
{%- set text_columns = ['last_email_name', 'last_event', 'job_title', 'education'] -%}

with

contact_records as (
    select * from {{ ref('base_hubspot__contact_records') }}
    where quarantine_reason is null and left_out_reason is null
),

countries as (
    select * from {{ ref('countries') }}
),

typed_contacts as (
    select
        contact_records.record_number,
        contact_records.line_number,
        {{ try_cast_to('contact_records.contact_id', api.Column.translate_type('bigint')) }}
            as contact_id,

        {%- for raw, typed in timestamp_columns %}
        {%- set checked = checked_timestamp('contact_records.' ~ raw) %}
        {{ checked.value }} as {{ typed }},
        {{ checked.reason }} as {{ typed }}_reason,
        {%- endfor %}

        {%- for column, kind in number_columns %}
        {%- set checked = checked_number('contact_records.' ~ column, kind) %}
        {{ checked.value }} as {{ column }},
        {{ checked.reason }} as {{ column }}_reason,
        {%- endfor %}

        {%- for column in flag_columns %}
        case
            when contact_records.{{ column }} is null then false
            when lower(contact_records.{{ column }}) in ('yes', 'true') then true
            when lower(contact_records.{{ column }}) in ('no', 'false') then false
        end as {{ column }},
        case
            when contact_records.{{ column }} is not null
                and lower(contact_records.{{ column }}) not in ('yes', 'true', 'no', 'false')
                then 'not_a_flag'
        end as {{ column }}_reason,
        {%- endfor %}

        {#- free text leaves the base layer only through the one redaction macro -#}
        {%- for column in text_columns %}
        {{ redact_emails('contact_records.' ~ column) }} as {{ column }},
        {%- endfor %}
        {#- the export writes `A; B`, HubSpot's API (so the ELT tools) `A;B`: one spelling -#}
        {{ redact_emails(regexp_replace_all(
            'contact_records.courses_taken', regex_literal('\\s*;\\s*'), "'; '"
        )) }} as courses_taken,
        {{ redact_emails('contact_records.first_page_seen') }} as first_page_seen,
        {{ redact_emails('contact_records.last_page_seen') }} as last_page_seen,
        known_countries.country_name as ip_country,
        case
            when contact_records.ip_country is not null and known_countries.country_name is null
                then 'unknown_country'
        end as ip_country_reason,
        known_codes.country_code as ip_country_code,
        case
            when contact_records.ip_country_code is not null and known_codes.country_code is null
                then 'unknown_country'
        end as ip_country_code_reason
    from contact_records
    left join countries as known_countries
        on lower(contact_records.ip_country) = known_countries.country_name
    left join (select distinct country_code from countries) as known_codes
        on lower(contact_records.ip_country_code) = known_codes.country_code
),

final as (
    select
        contact_id,
        record_number,
        line_number,
        {%- for raw, typed in timestamp_columns %}
        {{ typed }},
        {%- endfor %}
        {%- for column in count_columns %}
        {{ column }},
        {%- endfor %}
        avg_pageviews,
        {%- for column in flag_columns %}
        {{ column }},
        {%- endfor %}
        last_email_name,
        last_event,
        job_title,
        education,
        courses_taken,
        first_page_seen,
        last_page_seen,
        ip_country,
        ip_country_code,
        associated_company_id,
        {{ invalid_fields_list(reason_columns) }} as invalid_fields
    from typed_contacts
)

select * from final
