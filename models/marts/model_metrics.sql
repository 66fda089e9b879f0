{#- One row per (model, split, metric): the quality figures of every model the build trained.
    Each model family contributes one `*_metrics` model with the same five columns. -#}

with

segment_metrics as (
    select * from {{ ref('segment_metrics') }}
),

propensity_metrics as (
    select * from {{ ref('propensity_metrics') }}
),

final as (
    select
        model_name,
        model_version,
        split,
        metric,
        value
    from segment_metrics

    union all

    select
        model_name,
        model_version,
        split,
        metric,
        value
    from propensity_metrics
)

select * from final
