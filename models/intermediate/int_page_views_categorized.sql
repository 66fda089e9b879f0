{#- One row per contact and page position, chronological (position 1 is the oldest page): the
    normalised page views with the category of their URL. -#}

with

page_views as (
    select * from {{ ref('int_page_views_normalized') }}
),

urls_categorized as (
    select * from {{ ref('int_urls_categorized') }}
),

final as (
    select
        page_views.contact_id,
        page_views.position,
        page_views.normalized_url,
        page_views.changed_at,
        urls_categorized.category,
        urls_categorized.category_code
    from page_views
    inner join urls_categorized
        on page_views.normalized_url = urls_categorized.normalized_url
)

select * from final
