"""Paging: the on-call told through a pager (PagerDuty Events v2), one alert per case
that is triggered, acknowledged and resolved as the case goes — plain models, the
protocol paging integrations implement, and the activity the case workflow calls."""
