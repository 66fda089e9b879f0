{#- One row per normalised URL that no seed rule matched (category `other`), most viewed first:
    what an analyst reads before adding a rule to seeds/url_categories.csv. -#}

with

page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

unmatched_views as (
    select
        normalized_url,
        min(raw_url) as example_raw_url,
        count(distinct contact_id) as contacts,
        count(*) as views
    from page_views
    where category = 'other'
    group by normalized_url
),

final as (
    select
        cast(row_number() over (order by views desc, normalized_url) as integer) as view_rank,
        normalized_url,
        example_raw_url,
        contacts,
        views
    from unmatched_views
)

select * from final
order by view_rank
