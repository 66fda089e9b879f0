{#- One row per contact and version of its "Last Page Seen" property that holds a URL, newest first
    (`recency` 1 is the current value): the export's pageview_hist record (its four slots, the
    oldest, `...`, undated; empty slots skipped). Only usable records of staged contacts; an
    unusable change date becomes NULL and is named in invalid_fields. E-mail-like text inside URLs
    is redacted; the Email column is never read. -#}

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
    from export_versions
),

final as (
    select
        contact_id,
        cast(
            row_number() over (partition by contact_id order by slot)
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
