{#- Every record of each raw source is staged, quarantined or left out on purpose (a contact an ELT
    tool marks deleted, a repeated or empty history row: the base models' left_out_reason), exactly
    once: the records are counted afresh, apart from the read that stages them (a second, lenient
    read of a file: macro raw_record_count; an ELT tool's table counted as it is), and compared with
    the staging models, quarantined_rows and the left-out records. Returns one row per source whose
    counts disagree. -#}

{%- set elt = raw_source_is_elt() %}
{%- set contacts_file = raw_source_file('contacts') %}
{%- set history_file = raw_source_file('history') %}
{%- set events_file = raw_source_file('page_events') %}

with

raw_record_counts as (
    select '{{ contacts_file }}' as source_file, raw_records
    from (
        {%- if elt %}
        {{ elt_raw_record_count('contacts') }}
        {%- else %}
        {{ raw_record_count('hubspot_export') }}
        {%- endif %}
    ) as contact_records

    union all

    select '{{ history_file }}' as source_file, raw_records
    from (
        {%- if elt %}
        {{ elt_raw_record_count('history') }}
        {%- else %}
        {{ raw_record_count('pageview_hist') }}
        {%- endif %}
    ) as history_records

    union all

    select '{{ events_file }}' as source_file, raw_records
    from (
        {%- if raw_source_present('page_events') %}
        {{ raw_record_count('page_events') }}
        {%- else %}
        select 0 as raw_records
        {%- endif %}
    ) as event_records
),

staged_counts as (
    select '{{ contacts_file }}' as source_file, count(*) as staged_records
    from {{ ref('stg_hubspot__contacts') }}

    union all

    {#- a history record is staged as its page versions, or with none when it holds no URL #}
    select '{{ history_file }}' as source_file, count(*) as staged_records
    from (
        select record_number from {{ ref('stg_hubspot__page_history') }}

        union

        select page_history_records.record_number
        from {{ ref('base_hubspot__page_history_records') }} as page_history_records
        inner join {{ ref('stg_hubspot__contacts') }} as contacts
            on {{ try_cast_to('page_history_records.contact_id', api.Column.translate_type('bigint')) }}
                = contacts.contact_id
        where page_history_records.quarantine_reason is null
            and coalesce(
                page_history_records.url_current, page_history_records.url_previous_1,
                page_history_records.url_previous_2, page_history_records.url_previous_3
            ) is null
    ) as staged_history_records

    union all

    select '{{ events_file }}' as source_file, count(*) as staged_records
    from {{ ref('stg_hubspot__page_events') }}
),

left_out_counts as (
    select '{{ contacts_file }}' as source_file, count(*) as left_out_records
    from {{ ref('base_hubspot__contact_records') }}
    where left_out_reason is not null

    union all

    select '{{ history_file }}' as source_file, count(*) as left_out_records
    from {{ ref('base_hubspot__property_history_records') }}
    where left_out_reason is not null
),

quarantined_counts as (
    select source_file, count(*) as quarantined_records
    from {{ ref('quarantined_rows') }}
    group by source_file
),

final as (
    select
        raw_record_counts.source_file,
        raw_record_counts.raw_records,
        staged_counts.staged_records,
        coalesce(quarantined_counts.quarantined_records, 0) as quarantined_records,
        coalesce(left_out_counts.left_out_records, 0) as left_out_records
    from raw_record_counts
    inner join staged_counts
        on raw_record_counts.source_file = staged_counts.source_file
    left join quarantined_counts
        on raw_record_counts.source_file = quarantined_counts.source_file
    left join left_out_counts
        on raw_record_counts.source_file = left_out_counts.source_file
)

select *
from final
where raw_records != staged_records + quarantined_records + left_out_records
