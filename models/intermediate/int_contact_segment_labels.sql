{#- The segment labels the propensity model learns when var journeys_propensity_target is `segment`: one row
    per segmented contact. For any other target it is empty and does not ref contact_segments, so
    the propensity model neither waits for nor is skipped with the segment model. -#}

{%- if var('journeys_propensity_target') == 'segment' %}

with

contact_segments as (
    select * from {{ ref('contact_segments') }}
),

final as (
    select
        contact_id,
        segment_id,
        model_version
    from contact_segments
)

select * from final

{%- else %}

select
    cast(null as {{ dbt.type_bigint() }}) as contact_id,
    cast(null as {{ dbt.type_int() }}) as segment_id,
    cast(null as {{ dbt.type_string() }}) as model_version
limit 0

{%- endif %}
