base:
  '*':
    - common
  'id:conformance':
    - match: grain
    - special
  'nomatch-*':
    - ghost
