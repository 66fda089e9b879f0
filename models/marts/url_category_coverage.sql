{#- One row per category of the code seed (also those with no views): page views, contacts and
    distinct URLs, and each category's share of all page views; the `other` row is the unmatched
    share. -#}

with

page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

views_per_category as (
    select
        category,
        count(*) as page_views,
        count(distinct contact_id) as contacts,
        count(distinct normalized_url) as distinct_urls
    from page_views
    group by category
),

total_views as (
    select count(*) as all_page_views from page_views
),

final as (
    select
        url_category_codes.category,
        url_category_codes.category_code,
        url_category_codes.is_conversion,
        url_category_codes.category = 'other' as is_unmatched,
        coalesce(views_per_category.page_views, 0) as page_views,
        coalesce(views_per_category.contacts, 0) as contacts,
        coalesce(views_per_category.distinct_urls, 0) as distinct_urls,
        coalesce(views_per_category.page_views, 0)
            / cast(nullif(total_views.all_page_views, 0) as double) as share_of_page_views
    from url_category_codes
    cross join total_views
    left join views_per_category
        on url_category_codes.category = views_per_category.category
)

select * from final
order by category_code
