{#- One row per usable contact of the hubspot_export source: typed, trimmed, lower-cased where case
    carries no meaning. A value that does not parse becomes NULL and is named in
    invalid_fields. -#}

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
{%- set checked_columns = count_columns + flag_columns + ['avg_pageviews', 'associated_company_id'] -%}
{%- set timestamp_type = api.Column.translate_type('timestamp') -%}
{%- set integer_type = api.Column.translate_type('integer') -%}
{%- set double_type = api.Column.translate_type('double') -%}

with

contact_records as (
    select * from {{ ref('base_hubspot__contact_records') }}
    where quarantine_reason is null
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
        {{ try_cast_to('contact_records.' ~ raw, timestamp_type) }} as {{ typed }},
        {%- endfor %}

        {%- for column in count_columns %}
        {%- set as_integer = try_cast_to('contact_records.' ~ column, integer_type) %}
        case when {{ as_integer }} >= 0 then {{ as_integer }} end as {{ column }},
        {%- endfor %}
        {%- set avg_as_double = try_cast_to('contact_records.avg_pageviews', double_type) %}
        case when {{ avg_as_double }} >= 0 then {{ avg_as_double }} end as avg_pageviews,

        {%- for column in flag_columns %}
        case
            when contact_records.{{ column }} is null then false
            when lower(contact_records.{{ column }}) in ('yes', 'true') then true
            when lower(contact_records.{{ column }}) in ('no', 'false') then false
        end as {{ column }},
        {%- endfor %}

        contact_records.last_email_name,
        contact_records.last_event,
        contact_records.job_title,
        contact_records.education,
        contact_records.courses_taken,
        {{ redact_emails('contact_records.first_page_seen') }} as first_page_seen,
        {{ redact_emails('contact_records.last_page_seen') }} as last_page_seen,
        known_countries.country_name as ip_country,
        known_codes.country_code as ip_country_code,
        {%- set company_as_double = try_cast_to('contact_records.associated_company_id', double_type) %}
        case
            when {{ company_as_double }} > 0
                then cast({{ company_as_double }} as {{ api.Column.translate_type('bigint') }})
        end as associated_company_id,

        {#- raw values kept for the invalid-value flags below -#}
        contact_records.ip_country as ip_country_raw,
        contact_records.ip_country_code as ip_country_code_raw,
        {%- for raw, typed in timestamp_columns %}
        contact_records.{{ raw }} as {{ raw }}_raw,
        {%- endfor %}
        {%- for column in checked_columns %}
        contact_records.{{ column }} as {{ column }}_raw{{ ',' if not loop.last }}
        {%- endfor %}
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
        nullif(concat_ws(', ',
            {%- for raw, typed in timestamp_columns %}
            case when {{ raw }}_raw is not null and {{ typed }} is null then '{{ typed }}' end,
            {%- endfor %}
            {%- for column in checked_columns %}
            case
                when {{ column }}_raw is not null and {{ column }} is null then '{{ column }}'
            end,
            {%- endfor %}
            case when ip_country_raw is not null and ip_country is null then 'ip_country' end,
            case
                when ip_country_code_raw is not null and ip_country_code is null
                    then 'ip_country_code'
            end
        ), '') as invalid_fields
    from typed_contacts
)

select * from final
