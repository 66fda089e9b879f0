{#- One row per usable record of the optional page_events source: its user key, the contact it
    belongs to (NULL when the key is no staged Contact ID: such events still count in sessions and
    paths), the checked time, the URL (e-mails redacted), the event name (trimmed, lower-case) and
    the source's session id. Records that cannot be staged (base_hubspot__page_event_records'
    quarantine_reason) are in quarantined_rows. Empty when the source is absent. URLs, event names
    and session ids are normalised and redacted once per distinct value. Incremental: a build stages the
    records after the ones it holds; a contact added to the export later links its earlier events at the
    next --full-refresh. -#}
{{ config(**page_events_increment()) }}

with

page_event_records as (
    select * from {{ ref('base_hubspot__page_event_records') }}
    where quarantine_reason is null
    {%- if page_events_incremental() %}
        and record_number > (select coalesce(max(record_number), 0) from {{ this }})
    {%- endif %}
),

contacts as (
    select contact_id from {{ ref('stg_hubspot__contacts') }}
),

distinct_urls as (
    select distinct url from page_event_records
    where url is not null
),

urls_redacted_and_normalized as (
    select
        url,
        {{ redact_emails('url') }} as redacted_url,
        {{ normalize_url('url') }} as normalized_url
    from distinct_urls
),

distinct_events as (
    select distinct event from page_event_records
    where event is not null
),

event_names as (
    select
        event,
        lower({{ redact_emails('event') }}) as event_name
    from distinct_events
),

distinct_session_ids as (
    select distinct session_id from page_event_records
    where session_id is not null
),

session_ids_redacted as (
    select
        session_id,
        {{ redact_emails('session_id') }} as source_session_id
    from distinct_session_ids
),

checked_events as (
    {%- set checked = checked_timestamp('occurred_at') %}
    select
        record_number,
        line_number,
        contact_id as user_key,
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key,
        {{ checked.value }} as occurred_at,
        url,
        event,
        session_id
    from page_event_records
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
        urls_redacted_and_normalized.redacted_url as url,
        urls_redacted_and_normalized.normalized_url,
        event_names.event_name,
        session_ids_redacted.source_session_id
    from checked_events
    left join contacts
        on checked_events.contact_key = contacts.contact_id
    left join urls_redacted_and_normalized
        on checked_events.url = urls_redacted_and_normalized.url
    left join event_names
        on checked_events.event = event_names.event
    left join session_ids_redacted
        on checked_events.session_id = session_ids_redacted.session_id
)

select * from final
