{#- One row per raw record that could not be staged, from any of the sources (the export's contacts,
    its page history or an ELT tool's property history, page_events): why, where, and (for a record
    the reader rejected or whose id is unusable) its raw text with the e-mail field blanked and
    every address-like token redacted. Records an ELT tool marks deleted or repeats, and history
    rows without a value, are left out (the base models' left_out_reason), not quarantined. -#}

with

contact_records as (
    select * from {{ ref('base_hubspot__contact_records') }}
),

page_history_records as (
    select * from {{ ref('base_hubspot__page_history_records') }}
),

property_history_records as (
    select * from {{ ref('base_hubspot__property_history_records') }}
    where left_out_reason is null
),

page_event_records as (
    select * from {{ ref('base_hubspot__page_event_records') }}
),

contacts as (
    select contact_id from {{ ref('stg_hubspot__contacts') }}
),

page_history_records_with_reason as (
    select
        page_history_records.source_file,
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

property_history_records_with_reason as (
    select
        property_history_records.source_file,
        property_history_records.record_number,
        property_history_records.line_number,
        property_history_records.contact_id,
        coalesce(
            property_history_records.quarantine_reason,
            case when contacts.contact_id is null then 'unknown_contact_id' end,
            {{ page_version_quarantine_reason('property_history_records') }}
        ) as quarantine_reason,
        property_history_records.reader_error,
        property_history_records.raw_text
    from property_history_records
    left join contacts
        on {{ try_cast_to('property_history_records.contact_id', api.Column.translate_type('bigint')) }}
            = contacts.contact_id
),

page_event_records_with_reason as (
    select
        source_file,
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
        source_file,
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
        source_file,
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
        source_file,
        record_number,
        line_number,
        contact_id,
        quarantine_reason,
        reader_error,
        raw_text
    from property_history_records_with_reason
    where quarantine_reason is not null

    union all

    select
        source_file,
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
