{#- One row per contact with page history: the chronological (oldest first) category codes and
    names of the pages the propensity model may read, keeping the most recent
    var('journeys_max_sequence_length') pages, and the oldest / newest dated page over the whole history.

    The history is the page_events source when it holds events (every on-site event of the contact,
    var journeys_off_site_categories, before its first conversion event, var journeys_propensity_target_event: the
    conversion and everything after it never reach a model's input), else the staged "Last Page Seen" history
    (`sequence_source` says which). `converted_at` is the contact's first conversion event.

    var('journeys_propensity_cutoff'): `first_conversion` keeps only the pages seen before the contact's
    First Conversion Date (a real export is measured after the purchase, and a buyer's last pages
    are often the course bought); `none` keeps every page. A page counts as seen before the
    conversion when it, or a newer page, is dated before it (the oldest slot has no date);
    contacts without a First Conversion Date keep every page. Both sequences are kept
    (`category_codes_uncut`, `category_codes_before_conversion`) so the leak the cut removes can
    be measured. -#}

{%- set cutoff = var('journeys_propensity_cutoff') %}
{%- if cutoff not in ('first_conversion', 'none') %}
    {{ exceptions.raise_compiler_error(
        "var journeys_propensity_cutoff=" ~ cutoff ~ " is not 'first_conversion' or 'none'") }}
{%- endif %}

with

history_page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

page_events as (
    select * from {{ ref('int_page_events_categorized') }}
    where contact_id is not null
),

event_source as (
    select count(*) > 0 as has_events from page_events
),

contact_conversions as (
    {{ first_conversions('page_events') }}
),

journey_pages as (
    {{ journey_pages('history_page_views', 'page_events', 'event_source') }}
),

{#- the pages before the contact's first conversion event (the history has none), positions
    renumbered 1..n over the kept pages: the length cap counts them -#}
page_views as (
    select
        journey_pages.contact_id,
        row_number() over (
            partition by journey_pages.contact_id
            order by journey_pages.page_order
        ) as position,
        journey_pages.category,
        journey_pages.category_code,
        journey_pages.changed_at
    from journey_pages
    left join contact_conversions
        on journey_pages.contact_id = contact_conversions.contact_id
    where contact_conversions.converted_at is null
        or journey_pages.changed_at < contact_conversions.converted_at
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

page_views_with_latest_date as (
    select
        page_views.contact_id,
        page_views.position,
        page_views.category,
        page_views.category_code,
        page_views.changed_at,
        contacts.first_conversion_at,
        count(*) over (partition by page_views.contact_id) as history_page_count,
        -- a page was seen no later than its own date or any newer page's date
        min(page_views.changed_at) over (
            partition by page_views.contact_id
            order by page_views.position desc
            rows between unbounded preceding and current row
        ) as seen_by
    from page_views
    left join contacts
        on page_views.contact_id = contacts.contact_id
),

page_views_before_conversion as (
    select
        *,
        count(*) over (partition by contact_id) as before_conversion_count
    from page_views_with_latest_date
    where first_conversion_at is null or seen_by < first_conversion_at
),

{%- set max_length = var('journeys_max_sequence_length') %}

uncut_sequences as (
    select
        contact_id,
        cast(count(*) as {{ api.Column.translate_type('integer') }}) as page_count,
        {{ list_agg_ordered('category_code', 'position') }} as category_codes,
        {{ list_agg_ordered('category', 'position') }} as categories
    from page_views_with_latest_date
    where position > history_page_count - {{ max_length }}
    group by contact_id
),

sequences_before_conversion as (
    select
        contact_id,
        cast(max(before_conversion_count) as {{ api.Column.translate_type('integer') }})
            as before_conversion_count,
        cast(count(*) as {{ api.Column.translate_type('integer') }}) as page_count,
        {{ list_agg_ordered('category_code', 'position') }} as category_codes,
        {{ list_agg_ordered('category', 'position') }} as categories
    from page_views_before_conversion
    where position > before_conversion_count - {{ max_length }}
    group by contact_id
),

history_dates as (
    select
        contact_id,
        cast(max(history_page_count) as {{ api.Column.translate_type('integer') }})
            as history_page_count,
        min(changed_at) as first_page_at,
        max(changed_at) as last_page_at
    from page_views_with_latest_date
    group by contact_id
),

{%- set kept = 'sequences_before_conversion' if cutoff == 'first_conversion' else 'uncut_sequences' %}

final as (
    select
        history_dates.contact_id,
        coalesce({{ kept }}.page_count, 0) as page_count,
        history_dates.history_page_count,
        {%- if cutoff == 'first_conversion' %}
        coalesce(sequences_before_conversion.before_conversion_count, 0) as input_page_count,
        {%- else %}
        history_dates.history_page_count as input_page_count,
        {%- endif %}
        coalesce({{ kept }}.category_codes, {{ empty_integer_list() }}) as category_codes,
        {{ kept }}.categories,
        uncut_sequences.category_codes as category_codes_uncut,
        coalesce(
            sequences_before_conversion.category_codes, {{ empty_integer_list() }}
        ) as category_codes_before_conversion,
        history_dates.first_page_at,
        history_dates.last_page_at,
        case
            when event_source.has_events then 'page_events' else 'page_history'
        end as sequence_source,
        contact_conversions.converted_at
    from history_dates
    inner join uncut_sequences
        on history_dates.contact_id = uncut_sequences.contact_id
    left join sequences_before_conversion
        on history_dates.contact_id = sequences_before_conversion.contact_id
    left join contact_conversions
        on history_dates.contact_id = contact_conversions.contact_id
    cross join event_source
)

select * from final
