{#- One row per raw line that could not be staged, from either file: why, where, and the raw text
    (e-mail addresses redacted) when the line could not be parsed. -#}

with

contact_lines as (
    select * from {{ ref('stg_hubspot__contact_lines') }}
),

page_history_lines as (
    select * from {{ ref('stg_hubspot__page_history_lines') }}
),

contacts as (
    select contact_id from {{ ref('stg_hubspot__contacts') }}
),

page_history_lines_with_reason as (
    select
        page_history_lines.line_number,
        page_history_lines.contact_id,
        coalesce(
            page_history_lines.quarantine_reason,
            case when contacts.contact_id is null then 'unknown_contact_id' end
        ) as quarantine_reason,
        page_history_lines.raw_text,
    from page_history_lines
    left join contacts
        on {{ try_cast_to('page_history_lines.contact_id', api.Column.translate_type('bigint')) }}
            = contacts.contact_id
),

quarantined_lines as (
    select
        'hubspot_export.csv' as source_file,
        line_number,
        contact_id,
        quarantine_reason,
        raw_text,
    from contact_lines
    where quarantine_reason is not null

    union all

    select
        'pageview_hist.csv' as source_file,
        line_number,
        contact_id,
        quarantine_reason,
        raw_text,
    from page_history_lines_with_reason
    where quarantine_reason is not null
),

final as (
    select
        source_file,
        cast(line_number as {{ api.Column.translate_type('integer') }}) as line_number,
        {{ redact_emails('contact_id') }} as contact_id,
        quarantine_reason,
        raw_text,
    from quarantined_lines
)

select * from final
