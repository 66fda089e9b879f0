{#- One row per usable record of the optional page_events source: its user key, the contact it
    belongs to (NULL when the key is no staged Contact ID: such events still count in sessions and
    paths), the checked time, the URL (e-mails redacted), the event name (trimmed, lower-case) and
    the source's session id. Records that cannot be staged (macro page_event_quarantine_reason) are
    in quarantined_rows. Empty when the source is absent. -#}

with

page_event_records as (
    select * from {{ ref('base_hubspot__page_event_records') }}
    where quarantine_reason is null
),

contacts as (
    select contact_id from {{ ref('stg_hubspot__contacts') }}
),

usable_records as (
    select *
    from page_event_records
    where {{ page_event_quarantine_reason('page_event_records') }} is null
),

checked_events as (
    {%- set checked = checked_timestamp('occurred_at') %}
    select
        record_number,
        line_number,
        contact_id as user_key,
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key,
        {{ checked.value }} as occurred_at,
        {{ redact_emails('url') }} as url,
        {{ normalize_url('url') }} as normalized_url,
        lower({{ redact_emails('event') }}) as event_name,
        {{ redact_emails('session_id') }} as source_session_id
    from usable_records
),

final as (
    select
        checked_events.record_number,
        checked_events.line_number,
        {#- a Contact ID written as 0012 or 12 is one contact: its key is the id itself -#}
        coalesce(
            cast(contacts.contact_id as {{ dbt.type_string() }}), checked_events.user_key
        ) as user_key,
        contacts.contact_id,
        checked_events.occurred_at,
        checked_events.url,
        checked_events.normalized_url,
        checked_events.event_name,
        checked_events.source_session_id
    from checked_events
    left join contacts
        on checked_events.contact_key = contacts.contact_id
)

select * from final
