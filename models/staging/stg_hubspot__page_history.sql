{#- One row per contact and version of its "Last Page Seen" property that holds a URL, newest first
    (`recency` 1 is the current value), whatever the source: the export's pageview_hist record (its
    four slots, the oldest, `...`, undated; empty slots skipped) or an ELT tool's property history
    rows (every version, ordered by time; deleted contacts, empty and repeated rows were left out by
    the base model, rows without a usable time are quarantined). Only usable records of staged
    contacts; an unusable change date of the export becomes NULL and is named in invalid_fields.
    E-mail-like text inside URLs is redacted; the Email column is never read. -#}

{%- set slots = [
    (1, 'url_current', 'changed_at_current'),
    (2, 'url_previous_1', 'changed_at_previous_1'),
    (3, 'url_previous_2', 'changed_at_previous_2'),
    (4, 'url_previous_3', none),
] -%}
{%- set bigint_type = api.Column.translate_type('bigint') -%}

with

page_history_records as (
    select * from {{ ref('base_hubspot__page_history_records') }}
    where quarantine_reason is null
),

contacts as (
    select contact_id from {{ ref('stg_hubspot__contacts') }}
),

records_of_staged_contacts as (
    select page_history_records.*
    from page_history_records
    inner join contacts
        on {{ try_cast_to('page_history_records.contact_id', bigint_type) }} = contacts.contact_id
),

property_history_records as (
    select * from {{ ref('base_hubspot__property_history_records') }}
    where quarantine_reason is null and left_out_reason is null
),

{#- the export's four slots, one row per filled slot (slot 1 the newest) -#}
export_versions as (
    {%- for slot, url_column, date_column in slots %}
    select
        {{ try_cast_to('contact_id', bigint_type) }} as contact_id,
        record_number,
        line_number,
        {{ slot }} as slot,
        {{ url_column }} as raw_url,
        {{ date_column if date_column else 'cast(null as ' ~ api.Column.translate_type('string') ~ ')' }}
            as raw_changed_at
    from records_of_staged_contacts
    where {{ url_column }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

{#- an ELT tool's versions (their time orders them) of staged contacts, the time usable -#}
tool_versions as (
    select
        contacts.contact_id,
        property_history_records.record_number,
        property_history_records.line_number,
        0 as slot,
        property_history_records.url as raw_url,
        property_history_records.changed_at as raw_changed_at
    from property_history_records
    inner join contacts
        on {{ try_cast_to('property_history_records.contact_id', bigint_type) }} = contacts.contact_id
    where ({{ page_version_quarantine_reason('property_history_records') }}) is null
),

versions as (
    select * from export_versions
    union all
    select * from tool_versions
),

checked_versions as (
    {%- set checked = checked_timestamp('raw_changed_at') %}
    select
        contact_id,
        record_number,
        line_number,
        slot,
        {{ redact_emails('raw_url') }} as url,
        {{ checked.value }} as changed_at,
        {{ checked.reason }} as changed_at_reason
    from versions
),

final as (
    select
        contact_id,
        cast(
            row_number() over (
                partition by contact_id
                order by slot, changed_at desc, record_number desc
            )
            as {{ api.Column.translate_type('integer') }}
        ) as recency,
        url,
        changed_at,
        record_number,
        line_number,
        {{ invalid_fields_list(['changed_at']) }} as invalid_fields
    from checked_versions
)

select * from final
