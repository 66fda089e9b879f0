{#- One row per contact with page history: the readable journey (every page's category, oldest
    first), its dates, whether it touched a conversion page, and the purchase labels. -#}

with

page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

features as (
    select * from {{ ref('int_contact_features_assembled') }}
),

page_view_summaries as (
    select
        page_views.contact_id,
        cast(count(*) as {{ api.Column.translate_type('integer') }}) as page_count,
        {{ list_agg_ordered('page_views.category', 'page_views.position') }} as categories,
        min(page_views.changed_at) as first_page_at,
        max(page_views.changed_at) as last_page_at,
        {{ dbt.bool_or('url_category_codes.is_conversion') }} as visited_conversion_page
    from page_views
    inner join url_category_codes
        on page_views.category = url_category_codes.category
    group by page_views.contact_id
),

final as (
    select
        page_view_summaries.contact_id,
        page_view_summaries.page_count,
        {{ list_join('page_view_summaries.categories', "' > '") }} as journey,
        {{ list_element('page_view_summaries.categories', '1') }} as first_category,
        {{ list_element('page_view_summaries.categories', 'page_view_summaries.page_count') }}
            as last_category,
        page_view_summaries.first_page_at,
        page_view_summaries.last_page_at,
        page_view_summaries.visited_conversion_page,
        features.is_buyer,
        {%- for course_name, suffix in hubspot_courses() %}
        features.course_{{ suffix }}{{ ',' if not loop.last }}
        {%- endfor %}
    from page_view_summaries
    inner join features
        on page_view_summaries.contact_id = features.contact_id
)

select * from final
