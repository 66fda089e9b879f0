{#- One row per raw record that could not be staged, from any of the three sources: why, where, and (for a
    record the reader rejected or whose id is unusable) its raw text with the e-mail field blanked
    and every address-like token redacted. -#}

with

contact_records as (
    select * from {{ ref('base_hubspot__contact_records') }}
),

page_history_records as (
    select * from {{ ref('base_hubspot__page_history_records') }}
),

page_event_records as (
    select * from {{ ref('base_hubspot__page_event_records') }}
),

contacts as (
    select contact_id from {{ ref('stg_hubspot__contacts') }}
),

page_history_records_with_reason as (
    select
        page_history_records.record_number,
        page_history_records.line_number,
        page_history_records.contact_id,
        coalesce(
            page_history_records.quarantine_reason,
            case when contacts.contact_id is null then 'unknown_contact_id' end
        ) as quarantine_reason,
        page_history_records.reader_error,
        page_history_records.raw_text
    from page_history_records
    left join contacts
        on {{ try_cast_to('page_history_records.contact_id', api.Column.translate_type('bigint')) }}
            = contacts.contact_id
),

page_event_records_with_reason as (
    select
        record_number,
        line_number,
        contact_id,
        coalesce(
            quarantine_reason,
            {{ page_event_quarantine_reason('page_event_records') }}
        ) as quarantine_reason,
        reader_error,
        raw_text
    from page_event_records
),

quarantined_records as (
    select
        'hubspot_export.csv' as source_file,
        record_number,
        line_number,
        contact_id,
        quarantine_reason,
        reader_error,
        raw_text
    from contact_records
    where quarantine_reason is not null

    union all

    select
        'pageview_hist.csv' as source_file,
        record_number,
        line_number,
        contact_id,
        quarantine_reason,
        reader_error,
        raw_text
    from page_history_records_with_reason
    where quarantine_reason is not null

    union all

    select
        'page_events.csv' as source_file,
        record_number,
        line_number,
        contact_id,
        quarantine_reason,
        reader_error,
        raw_text
    from page_event_records_with_reason
    where quarantine_reason is not null
),

final as (
    select
        source_file,
        cast(record_number as {{ api.Column.translate_type('integer') }}) as record_number,
        cast(line_number as {{ api.Column.translate_type('integer') }}) as line_number,
        {{ redact_emails('contact_id') }} as contact_id,
        quarantine_reason,
        reader_error,
        left({{ redact_emails('raw_text') }}, {{ var('journeys_quarantine_raw_text_chars') }}) as raw_text
    from quarantined_records
)

select * from final
