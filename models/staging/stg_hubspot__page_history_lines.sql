{#- One row per physical data line of pageview_hist.csv, parsed once and kept as a table. The
    Email column is never read. Whether the contact exists in the export is decided downstream
    (stg_hubspot__page_history, quarantined_rows), so the two files are parsed in parallel. -#}

with

parsed_lines as (
    {{ parse_raw_csv('pageview_hist.csv', hubspot_page_history_columns()) }}
),

lines_with_valid_ids as (
    select
        *,
        parse_error is null
        and {{ regexp_matches('contact_id', "'^[0-9]{1,18}$'") }} as has_valid_id,
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key,
    from parsed_lines
),

first_lines as (
    select
        contact_key,
        min(line_number) as first_line_number,
    from lines_with_valid_ids
    where has_valid_id
    group by contact_key
),

lines_with_reason as (
    select
        lines_with_valid_ids.*,
        case
            when lines_with_valid_ids.parse_error is not null
                then lines_with_valid_ids.parse_error
            when lines_with_valid_ids.contact_id is null then 'missing_contact_id'
            when not lines_with_valid_ids.has_valid_id then 'invalid_contact_id'
            when lines_with_valid_ids.line_number > first_lines.first_line_number
                then 'duplicate_contact_id'
        end as quarantine_reason,
    from lines_with_valid_ids
    left join first_lines
        on lines_with_valid_ids.contact_key = first_lines.contact_key
),

final as (
    select
        line_number,
        quarantine_reason,
        case
            when quarantine_reason is not null
                then left({{ redact_emails('line_text') }}, {{ var('quarantine_raw_text_chars') }})
        end as raw_text,
        {%- for column in hubspot_page_history_columns() %}
        {{ column[1] }},
        {%- endfor %}
    from lines_with_reason
)

select * from final
