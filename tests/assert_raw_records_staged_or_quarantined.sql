{#- Every record of each raw source is either staged or quarantined, exactly once: the records
    are counted afresh by a second, lenient read of the file (macro raw_record_count), apart from
    the read that stages them, and compared with the staging models and quarantined_rows. Returns
    one row per source whose counts disagree. -#}

with

raw_record_counts as (
    select 'hubspot_export.csv' as source_file, raw_records
    from ({{ raw_record_count('hubspot_export') }})

    union all

    select 'pageview_hist.csv' as source_file, raw_records
    from ({{ raw_record_count('pageview_hist') }})

    union all

    select 'page_events.csv' as source_file, raw_records
    from (
        {%- if raw_source_present('page_events') %}
        {{ raw_record_count('page_events') }}
        {%- else %}
        select 0 as raw_records
        {%- endif %}
    )
),

staged_counts as (
    select 'hubspot_export.csv' as source_file, count(*) as staged_records
    from {{ ref('stg_hubspot__contacts') }}

    union all

    {#- a history record is staged as its page versions, or with none when it holds no URL #}
    select 'pageview_hist.csv' as source_file, count(*) as staged_records
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

    select 'page_events.csv' as source_file, count(*) as staged_records
    from {{ ref('stg_hubspot__page_events') }}
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
        coalesce(quarantined_counts.quarantined_records, 0) as quarantined_records
    from raw_record_counts
    inner join staged_counts
        on raw_record_counts.source_file = staged_counts.source_file
    left join quarantined_counts
        on raw_record_counts.source_file = quarantined_counts.source_file
)

select *
from final
where raw_records != staged_records + quarantined_records
