{#- One row per contact and page position, chronological: position 1 is the oldest page.
    The four "Last Page Seen" slots are unpivoted (the oldest slot, `...`, has no change date),
    empty slots are skipped and the rest numbered from the oldest. -#}

with

page_history as (
    select * from {{ ref('stg_hubspot__page_history') }}
),

urls_categorized as (
    select * from {{ ref('int_urls_categorized') }}
),

page_slots as (
    {%- set slots = [
        (1, 'url_current', 'changed_at_current'),
        (2, 'url_previous_1', 'changed_at_previous_1'),
        (3, 'url_previous_2', 'changed_at_previous_2'),
        (4, 'url_previous_3', none),
    ] %}
    {%- for slot, url_column, date_column in slots %}
    select
        contact_id,
        {{ slot }} as slot_recency,
        {{ url_column }} as raw_url,
        {% if date_column -%}
        {{ date_column }}
        {%- else -%}
        cast(null as {{ api.Column.translate_type('timestamp') }})
        {%- endif %} as changed_at
    from page_history
    where {{ url_column }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

positioned_page_views as (
    select
        contact_id,
        row_number() over (
            partition by contact_id
            order by slot_recency desc
        ) as position,
        raw_url,
        changed_at
    from page_slots
),

final as (
    select
        positioned_page_views.contact_id,
        cast(
            positioned_page_views.position as {{ api.Column.translate_type('integer') }}
        ) as position,
        positioned_page_views.raw_url,
        urls_categorized.normalized_url,
        positioned_page_views.changed_at,
        urls_categorized.category,
        urls_categorized.category_code
    from positioned_page_views
    inner join urls_categorized
        on positioned_page_views.raw_url = urls_categorized.raw_url
)

select * from final
