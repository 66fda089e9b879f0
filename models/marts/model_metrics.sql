{#- One row per (model, split, metric): the quality figures of every model the build trained.
    Each model family contributes one `*_metrics` model with the same five columns; the propensity
    family adds bootstrap 95% intervals (ci_lower, ci_upper), NULL elsewhere. -#}

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
        value,
        cast(null as double) as ci_lower,
        cast(null as double) as ci_upper
    from segment_metrics

    union all

    select
        model_name,
        model_version,
        split,
        metric,
        value,
        ci_lower,
        ci_upper
    from propensity_metrics
)

select * from final
