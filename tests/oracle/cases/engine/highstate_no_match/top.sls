base:
  'nomatch':
    - main
