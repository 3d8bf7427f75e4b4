app:
  secret: x
