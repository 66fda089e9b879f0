{#- Every physical data line of each raw file is either staged or quarantined, exactly once:
    counts the file's lines afresh and compares with the staging models and quarantined_rows.
    Returns one row per file whose counts disagree. -#}

with

raw_line_counts as (
    select 'hubspot_export.csv' as source_file, count(*) - 1 as raw_lines
    from ({{ read_raw_lines('hubspot_export.csv') }})

    union all

    select 'pageview_hist.csv' as source_file, count(*) - 1 as raw_lines
    from ({{ read_raw_lines('pageview_hist.csv') }})
),

staged_counts as (
    select 'hubspot_export.csv' as source_file, count(*) as staged_rows
    from {{ ref('stg_hubspot__contacts') }}

    union all

    select 'pageview_hist.csv' as source_file, count(*) as staged_rows
    from {{ ref('stg_hubspot__page_history') }}
),

quarantined_counts as (
    select source_file, count(*) as quarantined_rows
    from {{ ref('quarantined_rows') }}
    group by source_file
),

final as (
    select
        raw_line_counts.source_file,
        raw_line_counts.raw_lines,
        staged_counts.staged_rows,
        coalesce(quarantined_counts.quarantined_rows, 0) as quarantined_rows,
    from raw_line_counts
    inner join staged_counts
        on raw_line_counts.source_file = staged_counts.source_file
    left join quarantined_counts
        on raw_line_counts.source_file = quarantined_counts.source_file
)

select *
from final
where raw_lines != staged_rows + quarantined_rows
