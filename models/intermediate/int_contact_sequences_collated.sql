{#- One row per contact with page history: the chronological (oldest first) category codes and
    names, keeping the most recent var('max_sequence_length') pages when a history is longer, and
    the oldest / newest dated page over the whole history. -#}

with

page_views as (
    select * from {{ ref('int_page_views_categorized') }}
),

page_views_with_history_length as (
    select
        *,
        count(*) over (partition by contact_id) as history_page_count
    from page_views
),

kept_page_views as (
    select *
    from page_views_with_history_length
    where position > history_page_count - {{ var('max_sequence_length') }}
),

collated_sequences as (
    select
        contact_id,
        cast(count(*) as {{ api.Column.translate_type('integer') }}) as page_count,
        {{ list_agg_ordered('category_code', 'position') }} as category_codes,
        {{ list_agg_ordered('category', 'position') }} as categories
    from kept_page_views
    group by contact_id
),

history_dates as (
    select
        contact_id,
        cast(max(history_page_count) as {{ api.Column.translate_type('integer') }})
            as history_page_count,
        min(changed_at) as first_page_at,
        max(changed_at) as last_page_at
    from page_views_with_history_length
    group by contact_id
),

final as (
    select
        collated_sequences.contact_id,
        collated_sequences.page_count,
        history_dates.history_page_count,
        collated_sequences.category_codes,
        collated_sequences.categories,
        history_dates.first_page_at,
        history_dates.last_page_at
    from collated_sequences
    inner join history_dates
        on collated_sequences.contact_id = history_dates.contact_id
)

select * from final
