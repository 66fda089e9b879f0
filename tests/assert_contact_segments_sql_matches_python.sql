{#- SQL scoring is the twin of the Python scoring: every contact has the same segment and the
    same dissimilarity (to 1e-9) in contact_segments_sql as in contact_segments, under the same
    model version. Returns the contacts where they differ. -#}

with

python_scores as (
    select * from {{ ref('contact_segments') }}
),

sql_scores as (
    select * from {{ ref('contact_segments_sql') }}
),

final as (
    select
        coalesce(python_scores.contact_id, sql_scores.contact_id) as contact_id,
        python_scores.segment_id as python_segment_id,
        sql_scores.segment_id as sql_segment_id,
        python_scores.dissimilarity as python_dissimilarity,
        sql_scores.dissimilarity as sql_dissimilarity
    from python_scores
    full outer join sql_scores
        on python_scores.contact_id = sql_scores.contact_id
    where python_scores.contact_id is null
        or sql_scores.contact_id is null
        or python_scores.segment_id <> sql_scores.segment_id
        or python_scores.model_version <> sql_scores.model_version
        or abs(python_scores.dissimilarity - sql_scores.dissimilarity) > 1e-9
)

select * from final
