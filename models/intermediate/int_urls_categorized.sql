{#- One row per distinct raw page URL: its normalised form and the category of the first seed
    rule (lowest priority number, then rule_id) that matches the normalised URL; `other` when
    none matches or the page is on another site (host not in var site_hosts: rules never see
    it). Normalising distinct URLs once keeps the regex work small. -#}

with

page_history as (
    select * from {{ ref('stg_hubspot__page_history') }}
),

url_categories as (
    select * from {{ ref('url_categories') }}
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

raw_urls as (
    {%- for column in ['url_current', 'url_previous_1', 'url_previous_2', 'url_previous_3'] %}
    select {{ column }} as raw_url from page_history where {{ column }} is not null
    {{ 'union' if not loop.last }}
    {%- endfor %}
),

normalized_urls as (
    select
        raw_url,
        {{ normalize_url('raw_url') }} as normalized_url
    from raw_urls
),

distinct_normalized_urls as (
    select distinct
        normalized_url,
        {{ is_site_url('normalized_url') }} as is_site_page
    from normalized_urls
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
        normalized_urls.raw_url,
        normalized_urls.normalized_url,
        coalesce(distinct_normalized_urls.is_site_page, false) as is_site_page,
        first_matches.rule_id,
        coalesce(first_matches.category, 'other') as category,
        url_category_codes.category_code,
        url_category_codes.is_conversion
    from normalized_urls
    left join distinct_normalized_urls
        on normalized_urls.normalized_url = distinct_normalized_urls.normalized_url
    left join first_matches
        on normalized_urls.normalized_url = first_matches.normalized_url
    left join url_category_codes
        on coalesce(first_matches.category, 'other') = url_category_codes.category
)

select * from final
