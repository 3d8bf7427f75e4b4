10.0.0.1:
  host.only:
    - hostnames: [one, uno]
10.0.0.2:
  host.only:
    - hostnames: [two.example.com, two]
10.0.0.4:
  host.only:
    - hostnames: four
10.0.0.3:
  host.only:
    - hostnames: ''
