rc:
  test.nop
