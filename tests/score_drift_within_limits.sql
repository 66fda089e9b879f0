{#- Warns when the latest build's scores moved: propensity PSI over var journeys_drift_psi_warn against the previous
    build's deciles, or a segment's share of contacts moved by more than var journeys_drift_share_warn. -#}
{{ config(severity='warn') }}

with

score_drift as (
    select * from {{ ref('score_drift') }}
),

latest_build as (
    select max(build_number) as build_number from score_drift
),

final as (
    select score_drift.*
    from score_drift
    inner join latest_build on score_drift.build_number = latest_build.build_number
    where
        (score_drift.measure = 'propensity_psi' and score_drift.value > {{ var('journeys_drift_psi_warn') }})
        or (
            score_drift.measure = 'segment_share'
            and abs(score_drift.change) > {{ var('journeys_drift_share_warn') }}
        )
)

select * from final
