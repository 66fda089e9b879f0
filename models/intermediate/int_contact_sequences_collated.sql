{#- One row per contact with a journey: the chronological (oldest first) category codes and names of
    the pages the propensity model may read, keeping the most recent var('journeys_max_sequence_length')
    pages, the oldest / newest dated page over that history, and the readable journey contact_journeys
    shows (the most recent pages of the whole journey, the conversion's place in it).

    The history is the page_events source when it holds events (every on-site event of the contact,
    var journeys_off_site_categories, before its first conversion event, var journeys_propensity_target_event: the
    conversion and everything after it never reach a model's input), else the staged "Last Page Seen" history
    (`sequence_source` says which). `converted_at` is the contact's first conversion event. A contact
    whose every page comes at or after its conversion has a journey and no model history
    (history_page_count 0).

    var('journeys_propensity_cutoff'): `first_conversion` keeps only the pages seen before the contact's
    First Conversion Date (a real export is measured after the purchase, and a buyer's last pages
    are often the course bought); `none` keeps every page. A page counts as seen before the
    conversion when it, or a newer page, is dated before it (the oldest slot has no date);
    contacts without a First Conversion Date keep every page. Both sequences are kept
    (`category_codes_uncut`, `category_codes_before_conversion`) so the leak the cut removes can
    be measured.

    Incremental (page_events source): only contacts with on-site or conversion events new since the last
    build, or whose First Conversion Date changed in the export, are collated again (on Spark, every
    contact of their buckets); the Last Page Seen history is collated in full on every build. -#}
{{ config(**page_events_increment(
    replaced='contact_bucket', replaced_rows='contact_id', watermark_of='int_page_events_categorized.record_number',
    collates=true,
)) }}

{%- set cutoff = var('journeys_propensity_cutoff') %}
{%- if cutoff not in ('first_conversion', 'none') %}
    {{ exceptions.raise_compiler_error(
        "var journeys_propensity_cutoff=" ~ cutoff ~ " is not 'first_conversion' or 'none'") }}
{%- endif %}
{%- set incremental = collates_events_incrementally() %}
{%- set replaced = page_events_replaced_key('contact_bucket', 'contact_id') %}

with

history_page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

page_events as (
    select * from {{ ref('int_page_events_categorized') }}
    where contact_id is not null
),

sessionized_events as (
    select * from {{ ref('int_page_events_sessionized') }}
    where contact_id is not null
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

event_source as (
    select count(*) > 0 as has_events
    from (select contact_id from page_events limit 1) as any_event
),

{%- if incremental %}

held_sequences as (
    select * from {{ this }}
),

new_events as (
    select contact_id
    from page_events
    where record_number > {{ page_events_watermark(api.Column.translate_type('bigint'), '0') }}
        and (is_on_site or is_target_event)
),

changed_contacts as (
    select contact_id from new_events

    union

    select held_sequences.contact_id
    from held_sequences
    inner join contacts
        on held_sequences.contact_id = contacts.contact_id
    where not coalesce(
        held_sequences.first_conversion_at = contacts.first_conversion_at,
        held_sequences.first_conversion_at is null and contacts.first_conversion_at is null
    )
),

{#- the contacts (DuckDB) or contact buckets (Spark) this build replaces -#}
replaced_keys as (
    select distinct {{ page_events_contact_key(replaced, 'contact_id') }} as replaced_key
    from changed_contacts
),

collated_contacts as (
    select contact_id from changed_contacts

    union

    select held_sequences.contact_id
    from held_sequences
    inner join replaced_keys
        on held_sequences.{{ replaced }} = replaced_keys.replaced_key
),

on_site_events as (
    select sessionized_events.*
    from sessionized_events
    inner join collated_contacts
        on sessionized_events.contact_id = collated_contacts.contact_id
),

target_events as (
    select page_events.*
    from page_events
    inner join collated_contacts
        on page_events.contact_id = collated_contacts.contact_id
    where page_events.is_target_event
),

{%- else %}

on_site_events as (
    select * from sessionized_events
),

target_events as (
    select * from page_events
    where is_target_event
),

{%- endif %}

contact_conversions as (
    {{ first_conversions('target_events') }}
),

journey_pages as (
    {{ journey_pages('history_page_views', 'on_site_events', 'event_source') }}
),

{#- the whole journey, each page marked when it is at or after the conversion: for events, from the
    first conversion event on; for the history, from the first page not seen before the First
    Conversion Date (the page or a newer one dated before it, as the cut below) -#}
journey_pages_numbered as (
    select
        journey_pages.contact_id,
        journey_pages.sequence_source,
        journey_pages.category,
        journey_pages.category_code,
        journey_pages.changed_at,
        row_number() over (
            partition by journey_pages.contact_id
            order by journey_pages.page_order
        ) as position,
        count(*) over (partition by journey_pages.contact_id) as journey_page_count,
        case
            when journey_pages.sequence_source = 'page_events'
                then contact_conversions.converted_at is not null
                    and journey_pages.changed_at >= contact_conversions.converted_at
            else contacts.first_conversion_at is not null
                and not coalesce(
                    min(journey_pages.changed_at) over (
                        partition by journey_pages.contact_id
                        order by journey_pages.page_order desc
                        rows between unbounded preceding and current row
                    ) < contacts.first_conversion_at,
                    false
                )
        end as is_from_conversion
    from journey_pages
    left join contact_conversions
        on journey_pages.contact_id = contact_conversions.contact_id
    left join contacts
        on journey_pages.contact_id = contacts.contact_id
),

{%- set max_length = var('journeys_max_sequence_length') %}

shown_journey_pages as (
    select
        *,
        position - greatest(journey_page_count - {{ max_length }}, 0) as journey_position
    from journey_pages_numbered
    where position > journey_page_count - {{ max_length }}
),

url_category_codes as (
    select * from {{ ref('url_category_codes') }}
),

journeys as (
    select
        shown_journey_pages.contact_id,
        max(shown_journey_pages.sequence_source) as sequence_source,
        cast(max(shown_journey_pages.journey_page_count) as {{ api.Column.translate_type('integer') }})
            as journey_page_count,
        {{ list_agg_ordered('shown_journey_pages.category', 'shown_journey_pages.journey_position') }}
            as journey_categories,
        cast(
            min(
                case
                    when shown_journey_pages.is_from_conversion then shown_journey_pages.journey_position
                end
            ) as {{ api.Column.translate_type('integer') }}
        ) as journey_conversion_position,
        min(shown_journey_pages.changed_at) as journey_first_page_at,
        max(shown_journey_pages.changed_at) as journey_last_page_at,
        {{ dbt.bool_or('url_category_codes.is_conversion') }} as journey_visited_conversion_page
    from shown_journey_pages
    inner join url_category_codes
        on shown_journey_pages.category = url_category_codes.category
    group by shown_journey_pages.contact_id
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

{#- the recorded Last Page Seen history under the same cutoff, whatever the source of the sequences:
    beside an event window it names the pages HubSpot kept, one per recent session -#}
recorded_pages as (
    select
        history_page_views.contact_id,
        history_page_views.position,
        history_page_views.category_code,
        contacts.first_conversion_at,
        min(history_page_views.changed_at) over (
            partition by history_page_views.contact_id
            order by history_page_views.position desc
            rows between unbounded preceding and current row
        ) as seen_by
    from history_page_views
    left join contacts
        on history_page_views.contact_id = contacts.contact_id
),

recorded_sequences as (
    select
        contact_id,
        {{ list_agg_ordered('category_code', 'position') }} as category_codes
    from recorded_pages
    {%- if cutoff == 'first_conversion' %}
    where first_conversion_at is null or seen_by < first_conversion_at
    {%- endif %}
    group by contact_id
),

{%- set kept = 'sequences_before_conversion' if cutoff == 'first_conversion' else 'uncut_sequences' %}

final as (
    select
        journeys.contact_id,
        coalesce({{ kept }}.page_count, 0) as page_count,
        coalesce(history_dates.history_page_count, 0) as history_page_count,
        {%- if cutoff == 'first_conversion' %}
        coalesce(sequences_before_conversion.before_conversion_count, 0) as input_page_count,
        {%- else %}
        coalesce(history_dates.history_page_count, 0) as input_page_count,
        {%- endif %}
        coalesce({{ kept }}.category_codes, {{ empty_integer_list() }}) as category_codes,
        {{ kept }}.categories,
        coalesce(uncut_sequences.category_codes, {{ empty_integer_list() }}) as category_codes_uncut,
        coalesce(
            sequences_before_conversion.category_codes, {{ empty_integer_list() }}
        ) as category_codes_before_conversion,
        coalesce(recorded_sequences.category_codes, {{ empty_integer_list() }}) as recorded_category_codes,
        history_dates.first_page_at,
        history_dates.last_page_at,
        journeys.sequence_source,
        contact_conversions.converted_at,
        contacts.first_conversion_at,
        journeys.journey_page_count,
        journeys.journey_categories,
        journeys.journey_conversion_position,
        journeys.journey_first_page_at,
        journeys.journey_last_page_at,
        journeys.journey_visited_conversion_page,
        {{ page_events_contact_key('contact_bucket', 'journeys.contact_id') }} as contact_bucket
    from journeys
    left join history_dates
        on journeys.contact_id = history_dates.contact_id
    left join uncut_sequences
        on journeys.contact_id = uncut_sequences.contact_id
    left join sequences_before_conversion
        on journeys.contact_id = sequences_before_conversion.contact_id
    left join recorded_sequences
        on journeys.contact_id = recorded_sequences.contact_id
    left join contact_conversions
        on journeys.contact_id = contact_conversions.contact_id
    left join contacts
        on journeys.contact_id = contacts.contact_id
)

select * from final
