{#- One row per normalised URL that no seed rule matched (category `other`), most viewed first:
    what an analyst reads before adding a rule to seeds/url_categories.csv. Rules match exactly
    these normalised URLs; a page of another site (is_site_page false) needs its host in var
    journeys_site_hosts before any rule can see it. -#}

with

page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

urls_categorized as (
    select * from {{ ref('int_urls_categorized') }}
),

unmatched_views as (
    select
        normalized_url,
        count(distinct contact_id) as contacts,
        count(*) as views
    from page_views
    where category = 'other'
    group by normalized_url
),

final as (
    select
        cast(
            row_number() over (
                order by unmatched_views.views desc, unmatched_views.normalized_url
            ) as integer
        ) as view_rank,
        unmatched_views.normalized_url,
        urls_categorized.is_site_page,
        unmatched_views.contacts,
        unmatched_views.views
    from unmatched_views
    inner join urls_categorized
        on unmatched_views.normalized_url = urls_categorized.normalized_url
)

select * from final
order by view_rank
