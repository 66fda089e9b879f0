{#- var journeys_off_site_categories names categories of seeds/url_category_codes.csv: a misspelt name would
    silently leave its events in sessions, the path marts and the models' sequences. Returns one
    row per listed name that is no category (the build stops before any model reads the seed). -#}

{%- set listed = var('journeys_off_site_categories', []) or [] -%}
{%- set listed = [listed] if listed is string else listed -%}

with

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

listed_categories as (
    {%- for name in listed %}
    select '{{ name | string | lower | trim | replace("'", "''") }}' as category
    {{- '\n    union all' if not loop.last }}
    {%- else %}
    select category from url_category_codes where 1 = 0
    {%- endfor %}
),

final as (
    select listed_categories.category as unknown_off_site_category
    from listed_categories
    left join url_category_codes
        on listed_categories.category = url_category_codes.category
    where url_category_codes.category is null
)

select * from final
