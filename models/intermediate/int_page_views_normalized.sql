{#- One row per contact and page position, chronological: position 1 is the oldest page. The
    four "Last Page Seen" slots are unpivoted (the oldest slot, `...`, has no change date), empty
    slots are skipped and the rest numbered from the oldest. Each URL is replaced by its
    normalised form (macro normalize_url, applied once per distinct URL): raw URLs stop here and
    no table past staging stores one. -#}

with

page_history as (
    select * from {{ ref('stg_hubspot__page_history') }}
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

distinct_raw_urls as (
    select distinct raw_url from page_slots
),

normalized_urls as (
    select
        raw_url,
        {{ normalize_url('raw_url') }} as normalized_url
    from distinct_raw_urls
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
        normalized_urls.normalized_url,
        positioned_page_views.changed_at
    from positioned_page_views
    inner join normalized_urls
        on positioned_page_views.raw_url = normalized_urls.raw_url
)

select * from final
