{#- The host's summary covers every contact of the package's contact_features exactly once. -#}
with

summary as (
    select sum(contacts) as contacts from {{ ref('segment_buyer_rates') }}
),

features as (
    select count(*) as contacts from {{ ref('customer_journeys', 'contact_features') }}
)

select summary.contacts as summarized, features.contacts as featured
from summary cross join features
where summary.contacts is distinct from features.contacts
