app:
  secret: |
    token=abc
