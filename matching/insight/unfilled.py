"""(being written: issue #21)"""
