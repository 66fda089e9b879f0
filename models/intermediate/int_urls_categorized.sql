{#- One row per distinct normalised page URL (Last Page Seen history and page_events): the category of the first seed rule (lowest
    priority number, then rule_id) that matches it; `other` when none matches or the page is on
    another site (host not in var journeys_site_hosts: rules never see it). -#}

with

page_views as (
    select * from {{ ref('int_page_views_normalized') }}
),

page_events as (
    select * from {{ ref('stg_hubspot__page_events') }}
),

url_categories as (
    select * from {{ ref('url_categories') }}
    where match_type != 'event'
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

normalized_urls as (
    select normalized_url from page_views
    union
    select normalized_url from page_events
),

distinct_normalized_urls as (
    select distinct
        normalized_url,
        {{ is_site_url('normalized_url') }} as is_site_page
    from normalized_urls
    where normalized_url is not null
),

rule_matches as (
    select
        distinct_normalized_urls.normalized_url,
        url_categories.rule_id,
        url_categories.category,
        row_number() over (
            partition by distinct_normalized_urls.normalized_url
            order by url_categories.priority, url_categories.rule_id
        ) as match_rank
    from distinct_normalized_urls
    inner join url_categories
        on {{ url_rule_matches('distinct_normalized_urls.normalized_url', 'url_categories') }}
    where distinct_normalized_urls.is_site_page
),

first_matches as (
    select
        normalized_url,
        rule_id,
        category
    from rule_matches
    where match_rank = 1
),

final as (
    select
        distinct_normalized_urls.normalized_url,
        coalesce(distinct_normalized_urls.is_site_page, false) as is_site_page,
        first_matches.rule_id,
        coalesce(first_matches.category, 'other') as category,
        url_category_codes.category_code,
        url_category_codes.is_conversion
    from distinct_normalized_urls
    left join first_matches
        on distinct_normalized_urls.normalized_url = first_matches.normalized_url
    left join url_category_codes
        on coalesce(first_matches.category, 'other') = url_category_codes.category
)

select * from final
