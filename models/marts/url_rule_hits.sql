{#- One row per rule of seeds/url_categories.csv: the distinct normalised URLs and page views it
    wins, the URLs it also matches but loses to a rule of higher precedence (and the rule that
    takes most of them), and a status: `ok` (wins at least one URL), `shadowed` (matches URLs
    but wins none) or `dead` (matches no URL of this export). Pages of other sites, which no
    rule sees, are left out, and so are the `event` rules, which name events, not URLs. -#}

with

url_categories as (
    select * from {{ ref('url_categories') }}
    where match_type != 'event'
),

urls_categorized as (
    select * from {{ ref('int_urls_categorized') }}
),

page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

views_per_url as (
    select
        normalized_url,
        count(*) as page_views
    from page_views
    group by normalized_url
),

distinct_urls as (
    select distinct
        normalized_url,
        rule_id as winning_rule_id
    from urls_categorized
    where normalized_url is not null and is_site_page
),

rule_matches as (
    select
        url_categories.rule_id,
        distinct_urls.normalized_url,
        distinct_urls.winning_rule_id,
        url_categories.rule_id = distinct_urls.winning_rule_id as is_won,
        coalesce(views_per_url.page_views, 0) as page_views
    from distinct_urls
    inner join url_categories
        on {{ url_rule_matches('distinct_urls.normalized_url', 'url_categories') }}
    left join views_per_url
        on distinct_urls.normalized_url = views_per_url.normalized_url
),

hits_per_rule as (
    select
        rule_id,
        count(*) as urls_matched,
        count(case when is_won then 1 end) as urls_won,
        cast(sum(case when is_won then page_views else 0 end) as {{ dbt.type_bigint() }})
            as page_views_won,
        count(case when not is_won then 1 end) as urls_lost,
        cast(sum(case when is_won then 0 else page_views end) as {{ dbt.type_bigint() }})
            as page_views_lost
    from rule_matches
    group by rule_id
),

losses_per_winner as (
    select
        rule_id,
        winning_rule_id,
        row_number() over (
            partition by rule_id
            order by count(*) desc, winning_rule_id
        ) as winner_rank
    from rule_matches
    where not is_won
    group by rule_id, winning_rule_id
),

final as (
    select
        url_categories.rule_id,
        url_categories.priority,
        url_categories.match_type,
        url_categories.pattern,
        url_categories.category,
        coalesce(hits_per_rule.urls_won, 0) as urls_won,
        coalesce(hits_per_rule.page_views_won, 0) as page_views_won,
        coalesce(hits_per_rule.urls_lost, 0) as urls_lost,
        coalesce(hits_per_rule.page_views_lost, 0) as page_views_lost,
        losses_per_winner.winning_rule_id as lost_most_to_rule_id,
        case
            when coalesce(hits_per_rule.urls_matched, 0) = 0 then 'dead'
            when hits_per_rule.urls_won = 0 then 'shadowed'
            else 'ok'
        end as status
    from url_categories
    left join hits_per_rule
        on url_categories.rule_id = hits_per_rule.rule_id
    left join losses_per_winner
        on url_categories.rule_id = losses_per_winner.rule_id
        and losses_per_winner.winner_rank = 1
)

select * from final
order by priority
