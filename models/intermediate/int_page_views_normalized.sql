{#- One row per contact and page position, chronological: position 1 is the oldest page. The
    staged "Last Page Seen" versions (newest first, every version the source holds: the export's
    four slots, an ELT tool's whole history) are numbered from the oldest. Each URL is replaced by its
    normalised form (macro normalize_url, applied once per distinct URL): raw URLs stop here and
    no table past staging stores one. -#}

with

page_history as (
    select * from {{ ref('stg_hubspot__page_history') }}
),

page_versions as (
    select
        contact_id,
        recency,
        url as raw_url,
        changed_at
    from page_history
),

distinct_raw_urls as (
    select distinct raw_url from page_versions
),

normalized_urls as (
    select
        raw_url,
        {{ normalize_url('raw_url') }} as normalized_url
    from distinct_raw_urls
),

positioned_page_views as (
    select
        contact_id,
        row_number() over (
            partition by contact_id
            order by recency desc
        ) as position,
        raw_url,
        changed_at
    from page_versions
),

final as (
    select
        positioned_page_views.contact_id,
        cast(
            positioned_page_views.position as {{ api.Column.translate_type('integer') }}
        ) as position,
        normalized_urls.normalized_url,
        positioned_page_views.changed_at
    from positioned_page_views
    inner join normalized_urls
        on positioned_page_views.raw_url = normalized_urls.raw_url
)

select * from final
